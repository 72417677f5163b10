"""Forwards to :mod:`baselines.studies.dag`, so that ``python -m baselines.dag`` and
``from baselines import dag`` keep working; new code uses the study's own path."""

from baselines.studies.dag import *  # noqa: F403
from baselines.studies.dag import main

if __name__ == "__main__":
    main()
