"""The experiments built on the baselines library, each runnable with ``python -m``:

* :mod:`baselines.studies.reproduce`: the paper's Fig. 5, Fig. 6 and Table 1;
* :mod:`baselines.studies.channels`: fluctuating and unreliable channels;
* :mod:`baselines.studies.dag`: DAG tasks;
* :mod:`baselines.studies.reward_modes`: absolute against relative rewards for DQN and PPO;
* :mod:`baselines.studies.sweeps` (logs and spreading a study's parts) and
  :mod:`baselines.studies.plots`, which they share.

Data flows one way: the studies import the library (``baselines.dil``, ``baselines.kd``,
...), never the reverse. ``python -m baselines.reproduce`` and the other old paths
still work: those modules forward here.
"""
