"""Plots of the reproduction: Fig. 5, Fig. 6 and Table 1, ours beside the paper's numbers."""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gym_mecoffload.io import atomic_write

OURS, PAPER = "#3b75af", "#e5874a"


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure and its axes drawn by Agg, outside pyplot: files only, no display, and
    pyplot's backend (whatever the caller chose) left alone."""
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _save(figure: Figure, path: Path) -> Path:
    with atomic_write(path) as handle:
        figure.savefig(handle, format="png", dpi=120, bbox_inches="tight")
    return path


def _bars(ax, names, ours, paper, errors=None):
    positions = range(len(names))
    width = 0.4
    ax.bar(
        [p - width / 2 for p in positions],
        ours,
        width,
        yerr=errors,
        capsize=3,
        color=OURS,
        label="ours",
    )
    paper_positions = [
        p + width / 2 for p, v in zip(positions, paper, strict=True) if v is not None
    ]
    if paper_positions:
        ax.bar(
            paper_positions, [v for v in paper if v is not None], width, color=PAPER, label="paper"
        )
    ax.set_xticks(list(positions), names, rotation=30, ha="right")
    ax.legend()


def plot_fig5(results: dict, path: Path) -> Path:
    fig5, paper = results["fig5"], results["paper"]["fig5"]
    names = sorted(fig5, key=lambda n: fig5[n]["mean_ratio"])
    figure, ax = _figure(8, 4)
    _bars(ax, names, [fig5[n]["mean_ratio"] for n in names], [paper.get(n) for n in names])
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_ylabel("latency / optimal latency (mean, log scale)")
    ax.set_title("Fig. 5: normalised latency, 100K training samples")
    return _save(figure, path)


def plot_fig6(results: dict, path: Path) -> Path:
    fig6 = results["fig6"]
    names = sorted(fig6, key=lambda n: fig6[n]["mean_ratio"])
    figure, ax = _figure(8, 4)
    _bars(
        ax,
        names,
        [fig6[n]["mean_ratio"] for n in names],
        [None] * len(names),
        errors=[fig6[n]["mean_ratio_std"] for n in names],
    )
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_ylim(bottom=0.9)
    ax.set_ylabel("latency / optimal latency (mean over seeds, +- std)")
    ax.set_title("Fig. 6: 1K paper-kd training samples, tested on the Fig. 5 test set")
    return _save(figure, path)


def plot_table1(results: dict, path: Path) -> Path:
    table1, paper = results["table1"], results["paper"]["table1_online_ratio"]
    names = list(table1)
    figure, ax = _figure(9, 4)
    positions = range(len(names))
    width = 0.27
    online = [table1[n]["online_ratio"] for n in names]
    ax.bar(
        [p - width for p in positions],
        online,
        width,
        color=OURS,
        label="ours (networks through torch, solvers batched)",
    )
    # The middle slot: networks' numpy forward pass, or solvers' plain-Python single-task path.
    for key, colour, label in (
        ("online_numpy_ratio", "#7fb0d8", "ours, numpy forward"),
        ("online_single_ratio", "#9ccc65", "ours, solver's single-task path"),
    ):
        bars = [
            (p, table1[n][key]) for p, n in zip(positions, names, strict=True) if key in table1[n]
        ]
        ax.bar([p for p, _ in bars], [v for _, v in bars], width, color=colour, label=label)
    with_paper = [(p, paper[n]) for p, n in zip(positions, names, strict=True) if n in paper]
    ax.bar(
        [p + width for p, _ in with_paper],
        [v for _, v in with_paper],
        width,
        color=PAPER,
        label="paper",
    )
    ax.set_xticks(list(positions), names, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_ylabel("online delay per decision / Greedy's (log)")
    ax.set_title("Table 1: decision delay, one task at a time, one thread")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2)  # clear of the bars
    return _save(figure, path)


def plot_all(results: dict, out: Path) -> list[Path]:
    """Write fig5.png, fig6.png and table1.png into ``out``."""
    return [
        plot_fig5(results, out / "fig5.png"),
        plot_fig6(results, out / "fig6.png"),
        plot_table1(results, out / "table1.png"),
    ]


def _grouped_ratios(
    results: dict, policies: tuple[str, ...], metric: str, ylabel: str, title: str, path: Path
) -> Path:
    """One group of bars per setting (a row of ``results``), one bar per policy, log scale."""
    labels = list(results)
    shown = [name for name in policies if any(name in row for row in results.values())]
    figure, ax = _figure(11, 4.5)
    width = 0.8 / len(shown)
    colours = matplotlib.colormaps["tab10"]
    for k, name in enumerate(shown):
        bars = [
            (p + (k - (len(shown) - 1) / 2) * width, results[label][name][metric])
            for p, label in enumerate(labels)
            if name in results[label]
        ]
        ax.bar([b[0] for b in bars], [b[1] for b in bars], width, color=colours(k), label=name)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(figure, path)


def channel_ratios(results: dict, policies: tuple[str, ...], path: Path) -> Path:
    """The channel study (baselines.studies.channels): each policy's mean latency over the MDP
    expert's, per channel configuration; 1 is the best possible in expectation."""
    return _grouped_ratios(
        results,
        policies,
        "ratio_to_mdp",
        "mean latency / MDP expert's (log)",
        "Fluctuating and unreliable channels: what each policy pays over the MDP expert",
        path,
    )


def dag_ratios(results: dict, policies: tuple[str, ...], path: Path) -> Path:
    """The DAG study (baselines.studies.dag): each policy's makespan over the expert's, per
    (n, contention) setting, log scale; its 95% interval (``ci_low``, ``ci_high``) as an
    error bar where its figures have one."""
    labels = list(results)
    shown = [name for name in policies if any(name in row for row in results.values())]
    figure, ax = _figure(11, 4.5)
    width = 0.8 / len(shown)
    colours = matplotlib.colormaps["tab10" if len(shown) <= 10 else "tab20"]
    for k, name in enumerate(shown):
        where = [p for p, label in enumerate(labels) if name in results[label]]
        figures = [results[labels[p]][name] for p in where]
        means = [f["mean_ratio"] for f in figures]
        errors = None
        if all("ci_low" in f and "ci_high" in f for f in figures):
            errors = [
                [f["mean_ratio"] - f["ci_low"] for f in figures],
                [f["ci_high"] - f["mean_ratio"] for f in figures],
            ]
        ax.bar(
            [p + (k - (len(shown) - 1) / 2) * width for p in where],
            means,
            width,
            yerr=errors,
            capsize=1.5,
            error_kw={"elinewidth": 0.8},
            color=colours(k),
            label=name,
        )
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_ylabel("makespan / expert's (mean, 95% interval, log)")
    ax.set_title("DAG tasks: makespan over the MILP expert (best known with contention, n > 9)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(figure, path)
