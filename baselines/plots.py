"""Forwards to :mod:`baselines.studies.plots`, where this piece of the studies lives:
``baselines.plots`` is that module itself, so imports keep working."""

import sys

from baselines.studies import plots

sys.modules[__name__] = plots
