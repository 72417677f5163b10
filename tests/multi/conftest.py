"""Tests of the many-user, many-server family (SPEC-MULTI).

``reference.py`` beside this file is the independent, event-by-event reference simulator
that the batched core is checked against; ``test_reference.py`` checks it by hand.
"""
