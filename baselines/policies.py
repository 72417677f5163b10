"""One interface for every offloading policy: solvers and learned networks alike.

A :class:`Policy` decides a whole :class:`~gym_mecoffload.TaskBatch` at once
(``decide``) or one task at a time (``decide_one``), so evaluation and delay
measurement treat all policies the same way.

Learned policies are :class:`NetworkPolicy`: a plain MLP (standardisation,
Linear and ReLU layers) from the paper's input S to scores, read in one of three
ways (``kind``):

* ``"multilabel"``: one pass gives n x 3 logits, one head per subtask (DIL, KD-DIL);
* ``"joint"``: one pass gives 3**n scores, one per whole decision (DQN, the paper's DRL);
* ``"sequential"``: n passes, one per subtask, on ``MecOffload-v0``'s observation
  (the per-subtask DIL and DQN).

The same weights run through torch or through plain numpy matmuls
(``backend``), which is much faster for a single small input.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from gym_mecoffload import solvers
from gym_mecoffload.envs import decode_joint_actions
from gym_mecoffload.io import atomic_write
from gym_mecoffload.model import N_PLACES, TaskBatch, features, n_features
from gym_mecoffload.observations import SequentialLayout

Kind = Literal["multilabel", "joint", "sequential"]
KINDS = ("multilabel", "joint", "sequential")
Backend = Literal["torch", "numpy"]
_FORMAT = "gym_mecoffload.NetworkPolicy/1"


class Policy(abc.ABC):
    """Decides where every subtask of a task runs."""

    name: str = "policy"

    @abc.abstractmethod
    def decide(self, batch: TaskBatch) -> np.ndarray:
        """Decisions (N, n) of places 0 device, 1 edge, 2 cloud, for every task of ``batch``."""

    def decide_one(self, task: TaskBatch) -> np.ndarray:
        """The decision (n,) for a batch holding one task."""
        if len(task) != 1:
            raise ValueError(f"decide_one takes a batch of one task; got {len(task)}")
        return self.decide(task)[0]

    @property
    def n_parameters(self) -> int:
        """Learned parameters (0 for a solver)."""
        return 0

    @property
    def model_bytes(self) -> int:
        """Bytes of the learned parameters as float32 (0 for a solver)."""
        return 0


class SolverPolicy(Policy):
    """A deterministic solver of :mod:`gym_mecoffload.solvers` as a policy.

    ``decide_one`` takes the solver's single-task path (plain Python, no numpy
    per-call overhead, the same decisions) where it has one.
    """

    def __init__(
        self,
        name: str,
        solve: Callable[[TaskBatch], np.ndarray] | None = None,
        solve_one: Callable[[TaskBatch], np.ndarray] | None = None,
    ) -> None:
        if solve is None:
            if name not in solvers.SOLVERS:
                raise ValueError(f"unknown solver {name!r}; solvers are {sorted(solvers.SOLVERS)}")
            solve = solvers.SOLVERS[name]
            solve_one = solvers.SINGLE_TASK_SOLVERS.get(name)
        self.name = name
        self._solve = solve
        self._solve_one = solve_one

    def decide(self, batch: TaskBatch) -> np.ndarray:
        return self._solve(batch)

    def decide_one(self, task: TaskBatch) -> np.ndarray:
        if self._solve_one is None:
            return super().decide_one(task)
        if len(task) != 1:
            raise ValueError(f"decide_one takes a batch of one task; got {len(task)}")
        return self._solve_one(task)

    def with_single_task_path(self, enabled: bool) -> SolverPolicy:
        """The same solver, with ``decide_one`` through its single-task path or the batch one."""
        solve_one = solvers.SINGLE_TASK_SOLVERS.get(self.name) if enabled else None
        return SolverPolicy(self.name, self._solve, solve_one)


class RandomPolicy(Policy):
    """Every place uniformly at random, from its own generator."""

    name = "random"

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def decide(self, batch: TaskBatch) -> np.ndarray:
        return solvers.random(batch, self._rng)


class Standardize(nn.Module):
    """``(x - mean) / std`` with the training set's statistics, saved with the model."""

    def __init__(self, mean: np.ndarray, std: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(np.asarray(std), dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardize:
        """Statistics of ``x`` (rows are samples); a constant column keeps std 1."""
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 0, std, 1.0))


def mlp(n_in: int, hidden: tuple[int, ...], n_out: int) -> list[nn.Module]:
    """Linear and ReLU layers: ``n_in -> hidden... -> n_out``."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(n_in, width), nn.ReLU()]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return layers


def observation_size(kind: Kind, n_subtasks: int) -> int:
    """Input width: S for one-pass kinds, ``MecOffload-v0``'s observation for ``sequential``."""
    return SequentialLayout(n_subtasks).size if kind == "sequential" else n_features(n_subtasks)


def output_size(kind: Kind, n_subtasks: int) -> int:
    """Output width: n x 3 logits, 3**n joint scores, or 3 per-step scores."""
    return {
        "multilabel": N_PLACES * n_subtasks,
        "joint": N_PLACES**n_subtasks,
        "sequential": N_PLACES,
    }[kind]


@dataclass
class _NumpyLayer:
    kind: str  # "standardize", "linear" or "relu"
    a: np.ndarray | None = None
    b: np.ndarray | None = None


class NetworkPolicy(Policy):
    """A learned MLP policy (see the module docstring for ``kind``)."""

    def __init__(
        self, name: str, net: nn.Sequential, kind: Kind, n_subtasks: int, backend: Backend = "torch"
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
        if backend not in ("torch", "numpy"):
            raise ValueError(f"backend must be 'torch' or 'numpy'; got {backend!r}")
        self.name = name
        self.net = net.eval()
        self.kind = kind
        self.n_subtasks = n_subtasks
        self.backend = backend
        self._numpy_layers = self._to_numpy(net)

    @staticmethod
    def _to_numpy(net: nn.Sequential) -> list[_NumpyLayer]:
        layers = []
        for module in net:
            if isinstance(module, Standardize):
                layers.append(
                    _NumpyLayer(
                        "standardize", module.mean.numpy().copy(), module.std.numpy().copy()
                    )
                )
            elif isinstance(module, nn.Linear):
                weight = module.weight.detach().numpy().T.copy()
                layers.append(_NumpyLayer("linear", weight, module.bias.detach().numpy().copy()))
            elif isinstance(module, nn.ReLU):
                layers.append(_NumpyLayer("relu"))
            else:
                raise TypeError(
                    f"a NetworkPolicy holds Standardize, Linear and ReLU layers; got {module}"
                )
        return layers

    def with_backend(self, backend: Backend) -> NetworkPolicy:
        """The same weights, run through ``backend``."""
        return NetworkPolicy(self.name, self.net, self.kind, self.n_subtasks, backend)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    @property
    def model_bytes(self) -> int:
        return 4 * self.n_parameters

    def scores(self, observations: np.ndarray) -> np.ndarray:
        """The network's outputs for (N, input) float32 observations."""
        if self.backend == "numpy":
            x = observations
            for layer in self._numpy_layers:
                if layer.kind == "standardize":
                    x = (x - layer.a) / layer.b
                elif layer.kind == "linear":
                    x = x @ layer.a + layer.b
                else:
                    x = np.maximum(x, 0.0)
            return x
        with torch.inference_mode():
            return self.net(torch.from_numpy(observations)).numpy()

    def decide(self, batch: TaskBatch) -> np.ndarray:
        if batch.n_subtasks != self.n_subtasks:
            raise ValueError(
                f"{self.name} decides tasks of {self.n_subtasks} subtasks; got {batch.n_subtasks}"
            )
        x = features(batch)
        n, size = self.n_subtasks, len(batch)
        if self.kind == "multilabel":
            return self.scores(x).reshape(size, n, N_PLACES).argmax(axis=2).astype(np.int8)
        if self.kind == "joint":
            return decode_joint_actions(self.scores(x).argmax(axis=1), n).astype(np.int8)
        decisions = np.empty((size, n), dtype=np.int8)
        previous = np.zeros(size, dtype=np.intp)
        layout = SequentialLayout(n)
        for t in range(n):
            previous = self.scores(layout.build(x, t, previous)).argmax(axis=1)
            decisions[:, t] = previous
        return decisions

    def save(self, path: str | os.PathLike) -> Path:
        """Write the weights (tensors, numbers and strings only) atomically; see :func:`load_policy`."""
        layers = []
        for module in self.net:
            if isinstance(module, Standardize):
                layers.append({"type": "standardize", "mean": module.mean, "std": module.std})
            elif isinstance(module, nn.Linear):
                layers.append(
                    {
                        "type": "linear",
                        "weight": module.weight.detach(),
                        "bias": module.bias.detach(),
                    }
                )
            else:
                layers.append({"type": "relu"})
        payload = {
            "format": _FORMAT,
            "name": self.name,
            "kind": self.kind,
            "n_subtasks": self.n_subtasks,
            "layers": layers,
        }
        with atomic_write(path) as handle:
            torch.save(payload, handle)
        return Path(path)


def load_policy(path: str | os.PathLike, backend: Backend = "torch") -> NetworkPolicy:
    """Read a policy written by :meth:`NetworkPolicy.save`.

    Uses ``torch.load(weights_only=True)``: no pickled code runs. A missing,
    truncated or foreign file raises ``FileNotFoundError`` or ``ValueError``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no policy file at {path}")
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as error:  # torch raises several types for damaged files
        raise ValueError(
            f"{path} is not a readable policy file (truncated or corrupt?): {error}"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a gym_mecoffload policy (expected format {_FORMAT!r})")
    modules: list[nn.Module] = []
    try:
        for layer in payload["layers"]:
            if layer["type"] == "standardize":
                modules.append(Standardize(layer["mean"].numpy(), layer["std"].numpy()))
            elif layer["type"] == "linear":
                weight, bias = layer["weight"], layer["bias"]
                linear = nn.Linear(weight.shape[1], weight.shape[0])
                linear.load_state_dict({"weight": weight, "bias": bias})
                modules.append(linear)
            elif layer["type"] == "relu":
                modules.append(nn.ReLU())
            else:
                raise ValueError(f"unknown layer type {layer['type']!r}")
        kind, n_subtasks = payload["kind"], int(payload["n_subtasks"])
        net = nn.Sequential(*modules)
        first = next(m for m in modules if isinstance(m, nn.Linear))
        last = [m for m in modules if isinstance(m, nn.Linear)][-1]
        expected = (observation_size(kind, n_subtasks), output_size(kind, n_subtasks))
        if (first.in_features, last.out_features) != expected:
            raise ValueError(
                f"layers map {first.in_features} -> {last.out_features} but a {kind} policy for "
                f"{n_subtasks} subtasks needs {expected[0]} -> {expected[1]}"
            )
    except (KeyError, TypeError, RuntimeError, StopIteration, IndexError) as error:
        raise ValueError(f"{path} holds a malformed policy: {error!r}") from error
    return NetworkPolicy(payload["name"], net, kind, n_subtasks, backend)
