"""Forwards to :mod:`baselines.studies.multi`, so that ``python -m baselines.multi`` runs the
multi-user study; new code uses the study's own path."""

from baselines.studies.multi import *  # noqa: F403
from baselines.studies.multi import main

if __name__ == "__main__":
    main()
