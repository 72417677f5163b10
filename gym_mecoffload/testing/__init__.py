"""The Gymnasium contract every registered env family keeps, as checks any test can call.

As PettingZoo ships ``pettingzoo.test.api_test``, this module ships the checks the
package's own test suite runs over every id in :data:`gym_mecoffload.ENV_IDS`, so
a new family gets them by registering::

    from gym_mecoffload.testing import check_all

    check_all("MecOffload-v0", n_subtasks=4)  # raises AssertionError on a breach

The checks, each also callable alone:

* :func:`check_env_contract`: gymnasium's own ``check_env``, with its warnings
  turned into errors.
* :func:`check_seeded_determinism`: the same seed gives the same episodes, exactly,
  in a second env and in the first one reseeded.
* :func:`check_pickle_mid_episode`: a clone pickled mid-episode continues as the
  original does.
* :func:`check_vector_matches_single`: each sub-env of the family's native vector
  env replays a single env, in every autoreset mode the vector env offers.

Outputs are compared exactly: observations by dtype, shape and bytes, rewards
and flags by value, infos key by key (arrays by dtype and value). A breach
raises ``AssertionError`` naming the step, the output (and key) and both values.

The vector check asks the vector env how a single env replays one sub-env's
episode: its ``replay_options(i)``, which every family on the core's adapters
(:class:`~gym_mecoffload.core.envs.EpisodesVectorEnv`) has. The module
needs only gymnasium and numpy; it works on gymnasium 0.29.1 and 1.x.
"""

from gym_mecoffload.testing.comparing import assert_same, assert_same_observation
from gym_mecoffload.testing.contract import (
    AUTORESET_MODES,
    ReplayOptions,
    check_all,
    check_env_contract,
    check_pickle_mid_episode,
    check_seeded_determinism,
    check_vector_matches_single,
)

__all__ = [
    "AUTORESET_MODES",
    "ReplayOptions",
    "assert_same",
    "assert_same_observation",
    "check_all",
    "check_env_contract",
    "check_pickle_mid_episode",
    "check_seeded_determinism",
    "check_vector_matches_single",
]
