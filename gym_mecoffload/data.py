"""Forwards to :mod:`gym_mecoffload.chain.data`, where this piece of the chain family lives
since the shared core: ``gym_mecoffload.data`` is that module itself, so imports and
attribute look-ups keep working."""

import sys

from gym_mecoffload.chain import data

sys.modules[__name__] = data
