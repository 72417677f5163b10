"""Forwards to :mod:`gym_mecoffload.chain.observations`, where this piece of the chain family lives
since the shared core: ``gym_mecoffload.observations`` is that module itself, so imports and
attribute look-ups keep working."""

import sys

from gym_mecoffload.chain import observations

sys.modules[__name__] = observations
