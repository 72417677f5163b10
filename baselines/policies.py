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
from gym_mecoffload.chain.model import TaskBatch
from gym_mecoffload.chain.observations import SequentialLayout, features, n_features, slot_features
from gym_mecoffload.chain.wrappers import MAX_JOINT_SUBTASKS, decode_joint_actions
from gym_mecoffload.core.links import Slots
from gym_mecoffload.core.topology import N_PLACES
from gym_mecoffload.io import atomic_write, check_zip

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
class NumpyLayer:
    kind: str  # "standardize", "linear" or "relu"
    a: np.ndarray | None = None
    b: np.ndarray | None = None


def numpy_layers(net: nn.Sequential) -> list[NumpyLayer]:
    """An MLP of Standardize, Linear and ReLU layers as numpy arrays (copied), for a forward
    pass without torch's per-call overhead (:func:`numpy_scores`)."""
    layers = []
    for module in net:
        if isinstance(module, Standardize):
            layers.append(
                NumpyLayer("standardize", module.mean.numpy().copy(), module.std.numpy().copy())
            )
        elif isinstance(module, nn.Linear):
            weight = module.weight.detach().numpy().T.copy()
            layers.append(NumpyLayer("linear", weight, module.bias.detach().numpy().copy()))
        elif isinstance(module, nn.ReLU):
            layers.append(NumpyLayer("relu"))
        else:
            raise TypeError(
                f"a NetworkPolicy holds Standardize, Linear and ReLU layers; got {module}"
            )
    return layers


def numpy_scores(layers: list[NumpyLayer], observations: np.ndarray) -> np.ndarray:
    """The network's outputs for (N, input) float32 observations, in numpy."""
    x = observations
    for layer in layers:
        if layer.kind == "standardize":
            x = (x - layer.a) / layer.b
        elif layer.kind == "linear":
            x = x @ layer.a + layer.b
        else:
            x = np.maximum(x, 0.0)
    return x


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
        self._numpy_layers = numpy_layers(net)

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
            return numpy_scores(self._numpy_layers, observations)
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
        return self._sequential(x, None)

    def decide_on_slots(self, batch: TaskBatch, slots: Slots | None) -> np.ndarray:
        """Decisions (N, n) on a channel's realised ``slots`` (SPEC-CHANNELS; None: the
        paper's static, reliable channel).

        A sequential policy sees slot t's bandwidths when it places subtask t, as
        in ``MecOffload-v0``; a one-shot policy sees slot 0's only (``batch``'s).
        """
        slots = Slots.realised(batch, slots)
        slots.check_against(batch)
        if self.kind != "sequential":
            return self.decide(batch)
        return self._sequential(features(batch), slot_features(slots))

    def _sequential(self, x: np.ndarray, bandwidths: np.ndarray | None) -> np.ndarray:
        """Roll the per-subtask policy out from S (N, 2n + 5); ``bandwidths`` (N, n + 1, 2)
        MB/s: each slot's, shown at its step (None: S's own)."""
        n, size = self.n_subtasks, len(x)
        decisions = np.empty((size, n), dtype=np.int8)
        previous = np.zeros(size, dtype=np.intp)
        layout = SequentialLayout(n)
        for t in range(n):
            now = None if bandwidths is None else bandwidths[:, t]
            previous = self.scores(layout.build(x, t, previous, now)).argmax(axis=1)
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

    Fails closed: the OS's own ``FileNotFoundError`` / ``PermissionError``, and a
    ``ValueError`` saying what is wrong for anything else. The zip archive is
    verified first (member CRC-32s: torch checks none), then read with
    ``torch.load(weights_only=True)`` (no pickled code runs), then its
    structure is validated before any module is built: format, name, kind,
    ``n_subtasks`` in range, layers that chain from the kind's input to its
    output, finite weights, a positive finite std.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise IsADirectoryError(f"{path} is a directory, not a policy file")
    check_zip(path, "policy file").close()
    try:
        payload = torch.load(path, weights_only=True)
    except (FileNotFoundError, PermissionError):
        raise
    except Exception as error:  # torch raises many types for a damaged archive
        raise ValueError(f"{path} is not a readable policy file: {error}") from None
    try:
        name, kind, n_subtasks, layers = _check_payload(payload)
    except ValueError as error:
        raise ValueError(f"{path} holds an invalid policy: {error}") from None
    return NetworkPolicy(name, nn.Sequential(*layers), kind, n_subtasks, backend)


def _check_payload(payload: object) -> tuple[str, Kind, int, list[nn.Module]]:
    """Validate a loaded payload completely, then build its layers."""
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(f"not a gym_mecoffload policy (expected format {_FORMAT!r})")
    name, kind, n_subtasks, layers = (
        payload.get(key) for key in ("name", "kind", "n_subtasks", "layers")
    )
    if not isinstance(name, str):
        raise ValueError(f"name must be a string; got {name!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    limit = MAX_JOINT_SUBTASKS if kind == "joint" else 10_000
    # Bounded before 3**n is computed: a crafted n = 10**9 must not hang the loader.
    if (
        isinstance(n_subtasks, bool)
        or not isinstance(n_subtasks, int)
        or not 1 <= n_subtasks <= limit
    ):
        raise ValueError(
            f"n_subtasks must be an integer in [1, {limit}] for a {kind} policy; got {n_subtasks!r}"
        )
    if not isinstance(layers, list) or not layers:
        raise ValueError("layers must be a non-empty list")
    width = observation_size(kind, n_subtasks)
    modules: list[nn.Module] = []
    for index, layer in enumerate(layers):
        where = f"layer {index}"
        if not isinstance(layer, dict) or layer.get("type") not in (
            "standardize",
            "linear",
            "relu",
        ):
            raise ValueError(
                f"{where} must be a dict of type standardize, linear or relu; got {layer!r:.80}"
            )
        if layer["type"] == "relu":
            modules.append(nn.ReLU())
            continue
        keys = ("mean", "std") if layer["type"] == "standardize" else ("weight", "bias")
        tensors = [layer.get(key) for key in keys]
        for key, tensor in zip(keys, tensors, strict=True):
            if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
                raise ValueError(f"{where}'s {key} must be a float tensor; got {tensor!r:.80}")
            if not torch.isfinite(tensor).all():
                raise ValueError(f"{where}'s {key} holds non-finite values")
        if layer["type"] == "standardize":
            mean, std = tensors
            if mean.shape != (width,) or std.shape != (width,):
                raise ValueError(
                    f"{where} standardises {width} inputs; got mean {tuple(mean.shape)} and std {tuple(std.shape)}"
                )
            if not (std > 0).all():
                raise ValueError(f"{where}'s std must be > 0 (it divides)")
            modules.append(Standardize(mean.numpy(), std.numpy()))
            continue
        weight, bias = tensors
        if weight.ndim != 2 or weight.shape[1] != width or bias.shape != (weight.shape[0],):
            raise ValueError(
                f"{where} does not chain: it takes {width} inputs, so its weight must be "
                f"(out, {width}) and its bias (out,); got {tuple(weight.shape)} and {tuple(bias.shape)}"
            )
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        linear.load_state_dict({"weight": weight, "bias": bias})
        modules.append(linear)
        width = weight.shape[0]
    expected = output_size(kind, n_subtasks)
    if not any(isinstance(m, nn.Linear) for m in modules) or width != expected:
        raise ValueError(
            f"the layers end with {width} outputs; a {kind} policy for {n_subtasks} subtasks needs {expected}"
        )
    return name, kind, n_subtasks, modules
