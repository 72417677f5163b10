"""Forwards to :mod:`baselines.studies.sweeps`, where this piece of the studies lives:
``baselines.sweeps`` is that module itself, so imports keep working."""

import sys

from baselines.studies import sweeps

sys.modules[__name__] = sweeps
