"""Fluctuating and unreliable channels: ``python -m baselines.studies.channels [--quick] --out DIR``.

For each channel of SPEC-CHANNELS (``static``, ``iid``, ``markov`` with stay 0.7
and 0.95, ``rayleigh``), without and with ``outage_probability=0.1``, every
policy decides the same seeded test episodes of the paper's scenario (n = 6):

* the experts and heuristics (:func:`~gym_mecoffload.channels.experts.reference_decisions`)
  on every configuration;
* the learned policies on the configurations in ``learned`` (by default
  ``markov`` stay 0.7 and 0.95, ``iid`` and ``rayleigh`` with outages): the paper's one-shot DIL
  (5 x 256) trained on the clairvoyant's labels, ``dil_seq`` (BC of the MDP
  expert, then DAgger) and a sequential DQN, all on the same channel.

Writes ``DIR/results.json``, ``DIR/results.md`` and ``DIR/channels.png`` with
the metrics of SPEC-CHANNELS section 4. ``--quick`` runs tiny sizes.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from baselines.dil import train_dil, train_dil_sequential
from baselines.dqn import train_dqn
from baselines.evaluation import pin_threads
from baselines.studies.plots import channel_ratios
from baselines.studies.sweeps import add_executor_arguments, executor_from, log, run_parts
from gym_mecoffload.chain.data import generate_dataset
from gym_mecoffload.chain.model import cost, sample_states
from gym_mecoffload.channels import Channel, ChannelModel, MarkovChannel
from gym_mecoffload.channels.experts import reference_decisions
from gym_mecoffload.executors import SEQUENTIAL, Executor
from gym_mecoffload.metrics import channel_figures
from gym_mecoffload.report import markdown_table, write_json, write_text

N_SUBTASKS = 6
SCENARIO = "paper"
OUTAGE = 0.1
LEARNED_POLICIES = ("dil", "dil_seq", "dqn")
DIL_SEQ_HIDDEN = (256, 256)  # dil_seq: BC of the MDP expert, then DAgger
SHOWN = (
    "mdp",
    "certainty_equivalent",
    "one_shot_optimal",
    "greedy",
    "local",
    "edge",
    *LEARNED_POLICIES,
)


@dataclass(frozen=True)
class Configuration:
    """A channel and outage probability the study runs on."""

    label: str
    channel: Channel | str
    outage_probability: float

    def model(self) -> ChannelModel:
        return ChannelModel.build(self.channel, self.outage_probability, SCENARIO)


def configurations() -> list[Configuration]:
    """The study's 10 configurations: 5 channels, without and with outages."""
    channels: list[tuple[str, Channel | str]] = [
        ("static", "static"),
        ("iid", "iid"),
        ("markov 0.7", MarkovChannel(stay=0.7)),
        ("markov 0.95", MarkovChannel(stay=0.95)),
        ("rayleigh", "rayleigh"),
    ]
    return [
        Configuration(f"{label}, q={q:g}", channel, q)
        for q in (0.0, OUTAGE)
        for label, channel in channels
    ]


# The two (markov 0.7; rayleigh with outages), plus the channels where adapting
# pays most (iid) and least (markov 0.95): about 25 minutes on 2 cores in all.
DEFAULT_LEARNED = (
    "markov 0.7, q=0",
    f"rayleigh, q={OUTAGE:g}",
    "iid, q=0",
    "markov 0.95, q=0",
)


@dataclass(frozen=True)
class Sizes:
    """How much data and training each run gets (``--quick`` shrinks everything).

    Smaller budgets than the reproduction's, so that the full run fits in 30 minutes on
    2 cores."""

    n_train: int = 50_000  # per learned configuration, drawn on its channel
    n_test: int = 10_000  # the same seeded test episodes for every policy
    dil_epochs: int = 20  # the paper's one-shot 5 x 256 DIL, on the clairvoyant's labels
    dil_seq_epochs: int = 10
    dagger_timesteps: int = 30_000
    dqn_timesteps: int = 150_000  # sequential DQN on the channel env, config.DQN otherwise


QUICK = Sizes(
    n_train=600,
    n_test=400,
    dil_epochs=2,
    dil_seq_epochs=2,
    dagger_timesteps=600,
    dqn_timesteps=3000,
)


def _train(
    setting: Configuration, sizes: Sizes, seed: int, progress: bool
) -> dict[str, tuple[object, float]]:
    """The learned policies of one configuration, with their training seconds."""
    model = setting.model()
    rng = np.random.default_rng([seed, 1])
    train = generate_dataset(
        sizes.n_train,
        scenario=SCENARIO,
        n_subtasks=N_SUBTASKS,
        channel=setting.channel,
        outage_probability=setting.outage_probability,
        rng=rng,
    )
    dil, dil_history = train_dil(
        train, epochs=sizes.dil_epochs, rng=rng, name="dil", progress=progress
    )
    dil_seq, seq_history = train_dil_sequential(
        train,
        hidden=DIL_SEQ_HIDDEN,
        epochs=sizes.dil_seq_epochs,
        dagger_timesteps=sizes.dagger_timesteps,
        channel=model,
        rng=rng,
        name="dil_seq",
        progress=progress,
    )
    dqn, dqn_history = train_dqn(
        "sequential",
        n_subtasks=N_SUBTASKS,
        scenario=SCENARIO,
        timesteps=sizes.dqn_timesteps,
        channel=setting.channel,
        outage_probability=setting.outage_probability,
        rng=rng,
        progress=progress,
    )
    return {
        "dil": (dil, dil_history.seconds),
        "dil_seq": (dil_seq, seq_history.seconds),
        "dqn": (dqn, dqn_history.seconds),
    }


def run_configuration(
    setting: Configuration, sizes: Sizes, *, learn: bool, seed: int = 0, progress: bool = True
) -> dict[str, dict[str, float]]:
    """Every policy's figures on one configuration's seeded test episodes."""
    model = setting.model()
    rng = np.random.default_rng([seed, 0])
    tasks = sample_states(sizes.n_test, scenario=SCENARIO, n_subtasks=N_SUBTASKS, rng=rng)
    tasks, slots = model.realise(tasks, rng)
    decisions = reference_decisions(tasks, slots, model, rng)
    seconds: dict[str, float] = {}
    if learn:
        for name, (policy, train_seconds) in _train(setting, sizes, seed, progress).items():
            decisions[name] = policy.decide_on_slots(tasks, slots)
            seconds[name] = train_seconds
    costs = {name: cost(tasks, d, "latency", slots) for name, d in decisions.items()}
    expert_costs = costs["clairvoyant"], costs["mdp"], costs["certainty_equivalent"]
    figures = {}
    for name, values in costs.items():
        figures[name] = channel_figures(values, *expert_costs)
        if name in seconds:
            figures[name]["train_seconds"] = seconds[name]
    return figures


def _run_part(
    part: tuple[Configuration, bool], sizes: Sizes, seed: int, progress: bool
) -> dict[str, dict[str, float]]:
    # One configuration, wherever it runs: torch on one thread, as in the local run.
    pin_threads()
    setting, learn = part
    log(f"{setting.label}{' (training)' if learn else ''}")
    return run_configuration(setting, sizes, learn=learn, seed=seed, progress=progress)


def run(
    out: Path,
    *,
    sizes: Sizes,
    learned: tuple[str, ...] = DEFAULT_LEARNED,
    progress: bool = True,
    executor: Executor = SEQUENTIAL,
) -> dict[str, dict[str, dict[str, float]]]:
    """The whole study: every configuration, learned policies where ``learned`` says.

    The configurations are independent: ``executor`` (an :class:`~gym_mecoffload.executors.Executor`)
    spreads them over processes or Ray tasks (:func:`gym_mecoffload.executors.run_shards`;
    by default one after another in this process). Every figure but the training
    seconds is the same wherever they run.
    """
    pin_threads()
    known = [setting.label for setting in configurations()]
    unknown = sorted(set(learned) - set(known))
    if unknown:
        raise ValueError(f"learned names unknown configurations {unknown}; known: {known}")
    started = time.perf_counter()
    parts = [(setting, setting.label in learned) for setting in configurations()]
    figures = run_parts(
        partial(_run_part, sizes=sizes, seed=0),
        parts,
        executor=executor,
        progress=progress,
        label="channel configurations",
    )
    results = {setting.label: row for (setting, _), row in zip(parts, figures, strict=True)}
    out.mkdir(parents=True, exist_ok=True)
    write_json(
        out / "results.json",
        {"seconds": time.perf_counter() - started, "sizes": vars(sizes), "results": results},
    )
    write_text(out / "results.md", report(results))
    channel_ratios(results, SHOWN, out / "channels.png")
    return results


def report(results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown tables: ratio of means to the MDP expert, and mean L / L_clairvoyant."""
    shown = [name for name in SHOWN if any(name in row for row in results.values())]
    sections = []
    for metric, title in (
        ("ratio_to_mdp", "Ratio of mean latency to the MDP expert's (1 is the best possible)"),
        ("mean_ratio_clairvoyant", "Mean of L / L_clairvoyant (>= 1)"),
        ("gap_closed", "Share of the certainty-equivalent policy's excess closed"),
    ):
        rows = {
            label: {name: figures[metric] for name, figures in row.items()}
            for label, row in results.items()
        }
        sections.append(f"### {title}\n\n" + markdown_table(rows, shown, first="channel"))
    return "\n\n".join(sections) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the results")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument(
        "--learn-all", action="store_true", help="train the learned policies on every configuration"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_executor_arguments(parser, "configurations")
    args = parser.parse_args()
    learned = tuple(s.label for s in configurations()) if args.learn_all else DEFAULT_LEARNED
    results = run(
        args.out,
        sizes=QUICK if args.quick else Sizes(),
        learned=learned,
        progress=not args.no_progress,
        executor=executor_from(parser, args),
    )
    print(report(results))


if __name__ == "__main__":
    main()
