"""Compare the paper's non-learning policies on a test set: ``python -m gym_mecoffload.compare``.

Evaluates Optimal, Greedy, Local, Edge, Cloud and Random (paper Sec. 5.1) on
test states of a scenario and prints, and writes as markdown and JSON, the
normalised latency of SPEC section 5 with label accuracy.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from gym_mecoffload.chain import solvers
from gym_mecoffload.chain.data import OffloadDataset, generate_dataset
from gym_mecoffload.core.checks import MEGA
from gym_mecoffload.core.scenario import Scenario
from gym_mecoffload.metrics import evaluate_decisions
from gym_mecoffload.report import markdown_table, write_json, write_text

COLUMNS = ["mean_ratio", "ratio_of_means", "label_accuracy", "exact_match", "mean_cost"]


def compare_solvers(test: OffloadDataset, rng: np.random.Generator) -> dict[str, dict[str, float]]:
    """Figures of every non-learning policy on ``test``, Optimal first."""
    decisions = {
        name: solve(test.states, test.objective) for name, solve in solvers.SOLVERS.items()
    }
    decisions["random"] = solvers.random(test.states, rng)
    return {
        name: evaluate_decisions(test.states, chosen, test.decisions, test.objective)
        for name, chosen in decisions.items()
    }


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n-test", type=int, default=10_000, help="test states (default 10000, as the paper)"
    )
    parser.add_argument("--scenario", default="paper", help="scenario preset (default: paper)")
    parser.add_argument(
        "--min-bandwidth",
        type=float,
        default=None,
        help="bandwidth floor in MB/s (default: the scenario's)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the test states and Random")
    parser.add_argument("--out", type=Path, default=Path("results/compare"), help="output folder")
    args = parser.parse_args(argv)
    if args.n_test < 1:
        parser.error(f"--n-test must be >= 1; got {args.n_test}")

    scenario = Scenario.preset(args.scenario)
    if args.min_bandwidth is not None:
        scenario = dataclasses.replace(scenario, min_bandwidth=args.min_bandwidth * MEGA)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    test = generate_dataset(args.n_test, scenario=scenario, rng=rng)
    results = compare_solvers(test, rng)
    seconds = time.perf_counter() - started

    title = (
        f"Non-learning policies on {args.n_test} test states of scenario '{args.scenario}' "
        f"(min bandwidth {scenario.min_bandwidth / MEGA:g} MB/s, seed {args.seed}); latency normalised to Optimal = 1"
    )
    table = markdown_table(results, COLUMNS)
    print(title + "\n\n" + table + f"\n({seconds:.2f} s)")
    write_text(args.out / "compare.md", f"{title}\n\n{table}")
    write_json(
        args.out / "compare.json",
        {"settings": vars(args) | {"out": str(args.out)}, "results": results},
    )
    print(f"wrote {args.out / 'compare.md'} and {args.out / 'compare.json'}")
    return results


if __name__ == "__main__":
    main()
