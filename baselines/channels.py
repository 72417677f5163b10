"""Forwards to :mod:`baselines.studies.channels`, so that ``python -m baselines.channels`` and
``from baselines import channels`` keep working; new code uses the study's own path."""

from baselines.studies.channels import *  # noqa: F403
from baselines.studies.channels import main

if __name__ == "__main__":
    main()
