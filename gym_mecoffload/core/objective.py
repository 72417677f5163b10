"""What a decision costs: the objective and the energy model's constants, in one place
(SPEC section 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gym_mecoffload.core.checks import real_number, require_finite

OBJECTIVES = ("latency", "energy", "weighted")

# The energy model's defaults: w of the weighted objective, the device CPU's effective
# switched capacitance (J/(cycle Hz^2)) and its radio's send and receive powers (W).
LATENCY_WEIGHT = 0.5
KAPPA = 1e-27
TX_POWER = 0.5
RX_POWER = 0.1


@dataclass(frozen=True)
class Objective:
    """What a decision costs (SPEC section 1).

    Attributes:
        name: ``"latency"`` (seconds, the paper's), ``"energy"`` (the device's
            joules) or ``"weighted"`` (``latency_weight * latency +
            (1 - latency_weight) * energy``).
        latency_weight: w in [0, 1], used by ``"weighted"`` only.
        kappa: effective switched capacitance of the device CPU: running c
            cycles at f Hz costs ``kappa * c * f**2`` joules.
        tx_power: device radio power while sending, watts.
        rx_power: device radio power while receiving, watts.
    """

    name: str = "latency"
    latency_weight: float = LATENCY_WEIGHT
    kappa: float = KAPPA
    tx_power: float = TX_POWER
    rx_power: float = RX_POWER

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or self.name not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}; got {self.name!r}")
        for name in ("latency_weight", "kappa", "tx_power", "rx_power"):
            object.__setattr__(self, name, real_number(name, getattr(self, name)))
        if not 0.0 <= self.latency_weight <= 1.0:
            raise ValueError(f"latency_weight must be in [0, 1]; got {self.latency_weight!r}")
        for name in ("kappa", "tx_power", "rx_power"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0; got {value!r}")

    @property
    def latency_share(self) -> float:
        """The weight of latency in the cost: 1 for ``"latency"``, 0 for ``"energy"``,
        ``latency_weight`` for ``"weighted"`` (the energy's is one minus it)."""
        return {"latency": 1.0, "energy": 0.0}.get(self.name, self.latency_weight)


def device_joules(objective: Objective, cycles: Any, device_hz: Any) -> Any:
    """Joules the device's CPU spends running ``cycles`` at ``device_hz`` (arrays broadcast,
    or Python floats): ``kappa * cycles * device_hz**2``, in that order everywhere."""
    return objective.kappa * cycles * device_hz**2


def checked_device_joules(
    objective: Objective,
    cycles: np.ndarray,
    device_hz: np.ndarray,
    edge_bandwidth: np.ndarray,
    radio_bytes: np.ndarray,
) -> np.ndarray:
    """:func:`device_joules` per subtask (N, n) of N tasks, refusing tasks whose energy can
    overflow a float64.

    A task's fields lie in the representable range, which bounds every latency term but
    not the energy's, which scales with the objective's constants. ``radio_bytes`` (N,) is
    at most what the device's radio moves in any decision (each flow crosses it at most
    once, at ``max(tx_power, rx_power) / edge_bandwidth`` J/byte); twice the worst case
    finite keeps every decision's energy, reward and total finite.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # refused just below, with the cause
        joules = device_joules(objective, cycles, device_hz[:, None])
        require_finite(
            joules,
            lambda at: (
                f"the device energy kappa * cycles * device_hz**2 overflows for task {at[0]}, "
                f"subtask {at[1]}: kappa={objective.kappa!r} J/(cycle Hz^2), "
                f"cycles={cycles[at]!r}, device_hz={device_hz[at[0]]!r}; lower one of them"
            ),
        )
        for name, power in (("tx_power", objective.tx_power), ("rx_power", objective.rx_power)):
            require_finite(
                power / edge_bandwidth,
                lambda at, name=name, power=power: (
                    f"{name} / edge_bandwidth overflows for task {at[0]}: {name}={power!r} W, "
                    f"edge_bandwidth={edge_bandwidth[at]!r} bytes/s; lower {name} or raise "
                    "edge_bandwidth"
                ),
            )
        dearest_byte = max(objective.tx_power, objective.rx_power) / edge_bandwidth
        worst = (joules.sum(axis=1) + radio_bytes * dearest_byte) * 2
    require_finite(
        worst,
        lambda at: (
            f"task {at[0]}'s energy can overflow a float64: its cycles and data are too large "
            f"for kappa={objective.kappa!r}, tx_power={objective.tx_power!r} and "
            f"rx_power={objective.rx_power!r}"
        ),
    )
    return joules


def as_objective(objective: str | Objective) -> Objective:
    """An :class:`Objective` from its name or itself."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        return Objective(objective)
    raise TypeError(f"objective must be a name in {OBJECTIVES} or an Objective; got {objective!r}")


def make_objective(
    objective: str | Objective,
    latency_weight: float,
    kappa: float,
    tx_power: float,
    rx_power: float,
) -> Objective:
    """The objective an env's keyword arguments name: ``objective`` (a name, or an
    :class:`Objective` whose constants the other arguments may repeat but not contradict)
    with the energy model's constants."""
    if isinstance(objective, Objective):
        # Kwargs left at their defaults, or equal to the Objective's, do not conflict.
        given = {"latency_weight": latency_weight, "kappa": kappa, "tx_power": tx_power}
        given["rx_power"] = rx_power
        defaults = Objective()
        conflicting = sorted(
            name
            for name, value in given.items()
            if value != getattr(defaults, name) and value != getattr(objective, name)
        )
        if conflicting:
            raise ValueError(
                f"pass the objective's constants either in the Objective or as keyword "
                f"arguments, not both: {conflicting} differ from objective={objective!r}"
            )
        return objective
    if not isinstance(objective, str):
        raise TypeError(f"objective must be a name or an Objective; got {objective!r}")
    return Objective(objective, latency_weight, kappa, tx_power, rx_power)
