"""Forwards to :mod:`baselines.studies.reproduce`, so that ``python -m baselines.reproduce`` and
``from baselines import reproduce`` keep working; new code uses the study's own path."""

from baselines.studies.reproduce import *  # noqa: F403
from baselines.studies.reproduce import main

if __name__ == "__main__":
    main()
