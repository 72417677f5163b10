"""Forwards to :mod:`baselines.studies.reward_modes`, so that ``python -m baselines.reward_modes`` and
``from baselines import reward_modes`` keep working; new code uses the study's own path."""

from baselines.studies.reward_modes import *  # noqa: F403
from baselines.studies.reward_modes import main

if __name__ == "__main__":
    main()
