"""What every env family shares (each piece in its own module):

* :mod:`~gym_mecoffload.core.checks`: value checks and the float32-representable range;
* :mod:`~gym_mecoffload.core.topology`: places, links and routes (device-edge-cloud and
  more edge servers), the platform's fields;
* :mod:`~gym_mecoffload.core.objective`: the objective and the energy model's constants;
* :mod:`~gym_mecoffload.core.costs`: per-byte cost tables over a topology's places;
* :mod:`~gym_mecoffload.core.scenario`: the ranges tasks and platforms are drawn from;
* :mod:`~gym_mecoffload.core.links`: link realisations over transfer slots;
* :mod:`~gym_mecoffload.core.timeline`: resources with free-at times, transfers over routes;
* :mod:`~gym_mecoffload.core.episodes`: reward and render modes, the episodes protocol;
* :mod:`~gym_mecoffload.core.envs`: the one pair of env adapters (``EpisodesEnv``,
  ``EpisodesVectorEnv``), gymnasium's line and the autoreset modes.

The families (:mod:`gym_mecoffload.chain`, :mod:`gym_mecoffload.channels`,
:mod:`gym_mecoffload.dag`) build on these and never on each other's private names.
"""
