"""Random DAG tasks after daggen, and daggen's DOT (``.gv``) files (SPEC-DAG section 5).

:func:`generate_dags` builds each task layer by layer, as daggen (Suter and
Hunold, https://github.com/frs69wq/daggen) does: about ``n_subtasks ** fat``
subtasks per layer, each layer's width varied by ``regularity``, an edge to each
subtask from each subtask of the ``jump`` layers above with probability
``density``, and at least one parent for every subtask below the first layer.
Subtasks are numbered layer by layer, so every edge u -> v has u < v.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gym_mecoffload.core.checks import check_count, real_number
from gym_mecoffload.core.scenario import Scenario, as_scenario
from gym_mecoffload.dag.model import DagBatch
from gym_mecoffload.io import atomic_write

_MAX_GV_BYTES = 64 * 2**20  # a daggen file of a few thousand subtasks is well under 1 MB
_MAX_GV_SUBTASKS = 4096


def _fraction(name: str, value: float, low: float = 0.0, high: float = 1.0) -> float:
    number = real_number(name, value)
    if not low <= number <= high:
        raise ValueError(f"{name} must be in [{low:g}, {high:g}]; got {value!r}")
    return number


def _layer_widths(n: int, fat: float, regularity: float, rng: np.random.Generator) -> list[int]:
    """daggen's layers: widths around n**fat, each within (1 -+ regularity) of it."""
    mean = max(1.0, float(n) ** fat)
    widths, left = [], n
    while left > 0:
        # The small slack keeps exact widths exact: 16 ** 1.0 is 16, not 15.999...
        low = max(1, math.floor(mean * (1 - regularity) + 1e-9))
        high = max(low, math.ceil(mean * (1 + regularity) - 1e-9))
        width = min(left, int(rng.integers(low, high + 1)))
        widths.append(width)
        left -= width
    return widths


@dataclass(frozen=True)
class DagGenerator:
    """The DAG generator's parameters, checked once (a ValueError naming a bad one and what
    is allowed): the one value an env's settings, a dataset's shards and
    :func:`generate_dags` carry. See :func:`generate_dags` for each parameter."""

    n_subtasks: int = 10
    fat: float = 0.5
    density: float = 0.5
    regularity: float = 0.5
    jump: int = 1
    scenario: Scenario = "paper"  # type: ignore[assignment]  # a preset name is turned into one

    def __post_init__(self) -> None:
        checked = {
            "n_subtasks": check_count("n_subtasks", self.n_subtasks, 1, _MAX_GV_SUBTASKS),
            "fat": _fraction("fat", self.fat),
            "density": _fraction("density", self.density),
            "regularity": _fraction("regularity", self.regularity),
            "jump": check_count("jump", self.jump, 1),
            "scenario": as_scenario(self.scenario),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def generate(self, n: int, rng: np.random.Generator) -> DagBatch:
        """``n`` random DAG tasks, drawn only from ``rng`` (:func:`generate_dags`)."""
        return generate_dags(
            n,
            n_subtasks=self.n_subtasks,
            fat=self.fat,
            density=self.density,
            regularity=self.regularity,
            jump=self.jump,
            scenario=self.scenario,
            rng=rng,
        )


def generate_dags(
    n: int,
    *,
    n_subtasks: int = 10,
    fat: float = 0.5,
    density: float = 0.5,
    regularity: float = 0.5,
    jump: int = 1,
    scenario: str | Scenario = "paper",
    rng: np.random.Generator,
) -> DagBatch:
    """``n`` random DAG tasks of ``n_subtasks`` subtasks, drawn only from ``rng``.

    Args:
        fat: layer width about ``n_subtasks ** fat``, in [0, 1] (0: a chain, 1: one layer).
        density: the chance of an edge from each subtask of the ``jump`` layers above, [0, 1].
        regularity: how much layer widths vary around their mean, [0, 1] (0: all equal).
        jump: how many layers up an edge may reach (>= 1).
        scenario: ranges of cycles and bytes (each edge's data, the first layer's input,
            the sinks' output) and of the platform, as :class:`~gym_mecoffload.core.scenario.Scenario`.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    n = check_count("n", n, 0)
    settings = DagGenerator(n_subtasks, fat, density, regularity, jump, scenario)
    n_subtasks, fat, density = settings.n_subtasks, settings.fat, settings.density
    regularity, jump, scenario = settings.regularity, settings.jump, settings.scenario
    size = n_subtasks
    edges = np.zeros((n, size, size), dtype=bool)
    random, integers = rng.random, rng.integers
    for i in range(n):
        widths = _layer_widths(size, fat, regularity, rng)
        starts = [0, *itertools.accumulate(widths)]
        for layer in range(1, len(widths)):
            top, first, last = starts[max(0, layer - jump)], starts[layer], starts[layer + 1]
            links = random((first - top, last - first)) < density
            orphans = ~links.any(axis=0)
            # Every subtask below the first layer has a parent: one from the layer just above.
            parent = integers(starts[layer - 1], first, size=int(orphans.sum()))
            links[parent - top, orphans] = True
            edges[i, top:first, first:last] = links
    low, high = scenario.data
    edge_data = np.where(edges, rng.uniform(low, high, size=edges.shape), 0.0)
    sources = ~edges.any(axis=1)  # (n, size): no parent
    sinks = ~edges.any(axis=2)  # no child
    return DagBatch(
        cycles=rng.uniform(*scenario.cycles, size=(n, size)),
        edges=edges,
        edge_data=edge_data,
        input_data=np.where(sources, rng.uniform(low, high, size=(n, size)), 0.0),
        output_data=np.where(sinks, rng.uniform(low, high, size=(n, size)), 0.0),
        device_hz=rng.uniform(*scenario.device_hz, size=n),
        edge_hz=rng.uniform(*scenario.edge_hz, size=n),
        edge_bandwidth=rng.uniform(*scenario.bandwidth_range("edge_bandwidth"), size=n),
        cloud_bandwidth=rng.uniform(*scenario.bandwidth_range("cloud_bandwidth"), size=n),
        cloud_hz=scenario.cloud_hz,
    )


_NODE = re.compile(r'^\s*"?([A-Za-z0-9_]+)"?\s*\[([^\]]*)\]\s*;?\s*$')
_EDGE = re.compile(
    r'^\s*"?([A-Za-z0-9_]+)"?\s*->\s*"?([A-Za-z0-9_]+)"?\s*(?:\[([^\]]*)\])?\s*;?\s*$'
)
_ATTRIBUTE = re.compile(r'([A-Za-z_]+)\s*=\s*"?\s*([^",\s]+)\s*"?')
# A decimal numeral in ASCII, as daggen and write_gv print them (no "1_000", no other
# scripts' digits, which Python's float() would take).
_NUMERAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# The attributes daggen writes (size, alpha; expect_size in some generated sets) and
# write_gv's input and output bytes.
_NODE_ATTRIBUTES = ("size", "alpha", "expect_size", "input", "output")
_EDGE_ATTRIBUTES = ("size", "expect_size")


def _attributes(
    path: Path, line_number: int, text: str, allowed: tuple[str, ...]
) -> dict[str, float]:
    values = {}
    for key, raw in _ATTRIBUTE.findall(text or ""):
        if key not in allowed:
            raise ValueError(
                f"{path}:{line_number}: unknown attribute {key!r}; allowed here: {list(allowed)}"
            )
        if key in values:
            raise ValueError(f"{path}:{line_number}: attribute {key!r} is given twice")
        if not _NUMERAL.fullmatch(raw):
            known = raw.lower().lstrip("+-") in ("nan", "inf", "infinity")
            why = "must be finite and >= 0" if known else "is not a number"
            raise ValueError(f"{path}:{line_number}: {key}={raw!r} {why}")
        value = float(raw)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{path}:{line_number}: {key}={raw!r} must be finite and >= 0")
        values[key] = value
    return values


def _read_text(path: Path) -> str:
    """A .gv file's text: a regular file of at most ``_MAX_GV_BYTES`` in UTF-8. A FIFO or a
    device would block or never end, so only regular files are read, and never more than
    the limit (a file may say it is empty and not be, as /proc's do)."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a .gv file")
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if not path.is_file():
        raise ValueError(
            f"{path} is not a regular file (a FIFO or a device?); read_gv reads .gv files only"
        )
    with path.open("rb") as handle:
        data = handle.read(_MAX_GV_BYTES + 1)
    if len(data) > _MAX_GV_BYTES:
        raise ValueError(f"{path} is larger than {_MAX_GV_BYTES} bytes; not a daggen task")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a UTF-8 text file: {error}") from None


def read_gv(
    path: str | os.PathLike,
    *,
    device_hz: float,
    edge_hz: float,
    edge_bandwidth: float,
    cloud_bandwidth: float,
    cloud_hz: float = math.inf,
    cycles_per_size: float = 1.0,
    input_data: float = 0.0,
    output_data: float = 0.0,
) -> DagBatch:
    """One task from a daggen DOT file, as a batch of one.

    A node's ``size`` times ``cycles_per_size`` gives its cycles and an edge's
    ``size`` its bytes. The file has no platform, so the SPEC's fields are
    keywords; ``input_data`` (bytes) goes to every source and ``output_data`` to
    every sink unless a node carries its own ``input`` / ``output`` attributes
    (what :func:`write_gv` writes). Subtasks are renumbered in a topological order
    (ties by their order in the file). An edge daggen wrote twice (the same endpoints
    and attributes) is one edge. A malformed file, an unknown node or attribute, a node
    without ``size``, a self-loop, a duplicate that differs, text after the closing
    ``}`` or a cycle is refused with the line or nodes named.
    """
    path = Path(path)
    text = _read_text(path)
    nodes: dict[str, dict[str, float]] = {}
    links: dict[tuple[str, str], float] = {}
    edge_lines: dict[tuple[str, str], tuple[int, dict[str, float]]] = {}
    opened = closed = False
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("//")[0].strip()
        if not line or line.startswith("#"):
            continue
        if closed:
            raise ValueError(f"{path}:{line_number}: text after the graph's closing '}}': {raw!r}")
        if not opened:
            if not re.match(r"^(strict\s+)?digraph\b[^{]*\{$", line):
                raise ValueError(f"{path}:{line_number}: expected 'digraph ... {{'; got {raw!r}")
            opened = True
            continue
        if line == "}":
            closed = True
            continue
        edge = _EDGE.match(line)
        if edge:
            source, target, attributes = edge.groups()
            if source == target:
                raise ValueError(f"{path}:{line_number}: a self-loop on node {source!r}")
            values = _attributes(path, line_number, attributes, _EDGE_ATTRIBUTES)
            if (source, target) in edge_lines:
                first, earlier = edge_lines[(source, target)]
                if earlier == values:  # daggen draws a parent twice and writes it twice
                    continue
                raise ValueError(
                    f"{path}:{line_number}: a second edge {source} -> {target} with other "
                    f"attributes than line {first}'s: {values} against {earlier}"
                )
            edge_lines[(source, target)] = (line_number, values)
            links[(source, target)] = values.get("size", 0.0)
            continue
        node = _NODE.match(line)
        if node:
            name, attributes = node.groups()
            if name in ("graph", "node", "edge"):
                raise ValueError(
                    f"{path}:{line_number}: DOT's default attribute statements ({name} [...]) "
                    "are not read; give every node and edge its own attributes"
                )
            if name in nodes:
                raise ValueError(f"{path}:{line_number}: node {name!r} is declared twice")
            values = _attributes(path, line_number, attributes, _NODE_ATTRIBUTES)
            if "size" not in values:
                raise ValueError(
                    f"{path}:{line_number}: node {name!r} has no size (its work, which "
                    "cycles_per_size turns into CPU cycles)"
                )
            nodes[name] = values
            if len(nodes) > _MAX_GV_SUBTASKS:
                raise ValueError(f"{path} has more than {_MAX_GV_SUBTASKS} nodes")
            continue
        raise ValueError(f"{path}:{line_number}: not a node or an edge statement: {raw!r}")
    if not closed or not nodes:
        raise ValueError(f"{path} is not a complete digraph with nodes (missing '}}' or empty)")
    unknown = sorted({name for pair in links for name in pair} - set(nodes))
    if unknown:
        raise ValueError(f"{path}: edges name undeclared nodes {unknown}")
    names = list(nodes)
    order = _topological(path, names, links)
    index = {name: k for k, name in enumerate(order)}
    n = len(order)
    edges = np.zeros((1, n, n), dtype=bool)
    edge_data = np.zeros((1, n, n))
    for (source, target), size in links.items():
        edges[0, index[source], index[target]] = True
        edge_data[0, index[source], index[target]] = size
    factor = real_number("cycles_per_size", cycles_per_size)
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"cycles_per_size must be finite and > 0; got {cycles_per_size!r}")
    has_parent, has_child = edges[0].any(axis=0), edges[0].any(axis=1)
    inputs = np.array(
        [nodes[name].get("input", 0.0 if has_parent[index[name]] else input_data) for name in order]
    )
    outputs = np.array(
        [
            nodes[name].get("output", 0.0 if has_child[index[name]] else output_data)
            for name in order
        ]
    )
    return DagBatch(
        cycles=np.array([[nodes[name]["size"] * factor for name in order]]),
        edges=edges,
        edge_data=edge_data,
        input_data=inputs[None],
        output_data=outputs[None],
        device_hz=device_hz,
        edge_hz=edge_hz,
        edge_bandwidth=edge_bandwidth,
        cloud_bandwidth=cloud_bandwidth,
        cloud_hz=cloud_hz,
    )


def _topological(path: Path, names: list[str], links: dict[tuple[str, str], float]) -> list[str]:
    """Kahn's algorithm, the earliest-declared ready node first; a cycle is refused."""
    position = {name: k for k, name in enumerate(names)}
    children: dict[str, list[str]] = {name: [] for name in names}
    parents = dict.fromkeys(names, 0)
    for source, target in links:
        children[source].append(target)
        parents[target] += 1
    ready = sorted((name for name in names if parents[name] == 0), key=position.get)
    order = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for child in children[name]:
            parents[child] -= 1
            if parents[child] == 0:
                ready.append(child)
        ready.sort(key=position.get)
    if len(order) != len(names):
        stuck = sorted((name for name in names if parents[name] > 0), key=position.get)
        raise ValueError(f"{path}: the graph has a cycle through nodes {stuck[:10]}")
    return order


def write_gv(
    dags: DagBatch, path: str | os.PathLike, *, index: int = 0, cycles_per_size: float = 1.0
) -> Path:
    """Task ``index`` of ``dags`` as a daggen-style DOT file, atomically; node ``size`` is
    cycles / ``cycles_per_size``, edge ``size`` bytes, and every node carries its
    ``input`` and ``output`` bytes, so :func:`read_gv` gives the task back (with the
    platform as keywords). Numbers are written with 17 significant digits: exact."""
    if not isinstance(dags, DagBatch):
        raise TypeError(f"dags must be a DagBatch; got {type(dags).__name__}")
    index = check_count("index", index, 0, len(dags) - 1, f" (dags holds {len(dags)} tasks)")
    factor = real_number("cycles_per_size", cycles_per_size)
    if not (math.isfinite(factor) and factor > 0):
        # read_gv refuses what a zero, negative or infinite factor would write
        raise ValueError(f"cycles_per_size must be finite and > 0; got {cycles_per_size!r}")
    task = dags[index]
    n = task.n_subtasks
    lines = ["// written by gym_mecoffload.dag.write_gv", "digraph G {"]
    for v in range(n):
        lines.append(
            f'  {v + 1} [size="{float(task.cycles[0, v] / cycles_per_size)!r}", '
            f'input="{float(task.input_data[0, v])!r}", output="{float(task.output_data[0, v])!r}"]'
        )
    for u, v in zip(*np.nonzero(task.edges[0]), strict=True):
        lines.append(f'  {u + 1} -> {v + 1} [size="{float(task.edge_data[0, u, v])!r}"]')
    lines.append("}")
    path = Path(path)
    with atomic_write(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path
