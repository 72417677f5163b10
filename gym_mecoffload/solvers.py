"""Forwards to :mod:`gym_mecoffload.chain.solvers`, where this piece of the chain family lives
since the shared core: ``gym_mecoffload.solvers`` is that module itself, so imports and
attribute look-ups keep working."""

import sys

from gym_mecoffload.chain import solvers

sys.modules[__name__] = solvers
