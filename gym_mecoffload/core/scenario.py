"""Scenarios: uniform ranges from which tasks and their platform are sampled (SI units).

Every family draws from a :class:`Scenario`: the chain's requirements S, the DAG
generator's work, data and platform, the channels' bandwidth ranges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gym_mecoffload.core.checks import MEGA, check_representable, real_number

Range = tuple[float, float]


@dataclass(frozen=True)
class Scenario:
    """Uniform ranges from which offloading requirements are sampled (SI units).

    Every value is drawn independently and uniformly from its ``(low, high)``
    range. The paper's bandwidth ranges start at 0, which makes latency
    unbounded; bandwidths are therefore drawn from ``[max(low, min_bandwidth),
    high]`` (a narrower range, not a clip: no mass piles up at the floor).

    Attributes:
        cycles: CPU cycles per subtask.
        data: bytes of each data flow (input, intermediates, output).
        device_hz: end device CPU frequency p1, Hz.
        edge_hz: edge server CPU frequency p2, Hz.
        edge_bandwidth: device <-> edge bandwidth b1, bytes/s.
        cloud_bandwidth: edge <-> cloud bandwidth b2, bytes/s.
        min_bandwidth: floor of both bandwidth ranges, bytes/s (default 0.01 MB/s).
        cloud_hz: cloud CPU frequency, Hz (default ``inf``: free cloud execution).
        name: a label for reports.
    """

    cycles: Range
    data: Range
    device_hz: Range
    edge_hz: Range
    edge_bandwidth: Range
    cloud_bandwidth: Range
    min_bandwidth: float = 0.01 * MEGA
    cloud_hz: float = math.inf
    name: str = "custom"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string; got {self.name!r}")
        for name in ("min_bandwidth", "cloud_hz"):
            object.__setattr__(self, name, real_number(name, getattr(self, name)))
        if not (math.isfinite(self.min_bandwidth) and self.min_bandwidth > 0):
            raise ValueError(
                f"min_bandwidth must be finite and > 0 bytes/s; got {self.min_bandwidth!r}"
            )
        if not self.cloud_hz > 0:
            raise ValueError(f"cloud_hz must be > 0 Hz or inf; got {self.cloud_hz!r}")
        check_representable("cloud_hz", np.array([self.cloud_hz]))
        for name in ("cycles", "data", "device_hz", "edge_hz", "edge_bandwidth", "cloud_bandwidth"):
            bounds = getattr(self, name)
            # A string is a sequence too: "12" would read as (1.0, 2.0).
            if isinstance(bounds, (str, bytes)) or not isinstance(
                bounds, (tuple, list, np.ndarray)
            ):
                raise TypeError(f"{name} must be a (low, high) pair of numbers; got {bounds!r}")
            if len(bounds) != 2:
                raise ValueError(
                    f"{name} must be a (low, high) pair of numbers; got {len(bounds)} values"
                )
            low, high = (real_number(f"{name} bound", v) for v in bounds)
            if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
                raise ValueError(
                    f"{name} must satisfy 0 <= low <= high, both finite; got {bounds!r}"
                )
            if name.endswith("_hz") and low <= 0:
                raise ValueError(f"{name} must have low > 0 Hz; got {bounds!r}")
            check_representable(name, np.array([low, high]), f"{name} bounds")
            if name.endswith("bandwidth") and high < self.min_bandwidth:
                raise ValueError(
                    f"{name} high bound {high!r} bytes/s is below min_bandwidth {self.min_bandwidth!r}"
                )
            # Refuse a range that can draw what a task refuses: numpy draws low + (high -
            # low) * U with U a multiple of 2**-53, so from a range starting at 0 the
            # smallest positive draw is (high - low) * 2**-53; bandwidths start at the floor.
            if name.endswith("bandwidth"):
                floor = max(low, self.min_bandwidth)
                label = f"{name}'s lowest draw, max(low, min_bandwidth) = {floor!r},"
                check_representable(name, np.array([floor]), label)
            elif low == 0 and high > 0:
                smallest = high * 2.0**-53
                label = f"{name}'s smallest positive draw, high * 2**-53 = {smallest!r},"
                check_representable(name, np.array([smallest]), label)
            object.__setattr__(self, name, (low, high))

    @classmethod
    def preset(cls, name: str) -> Scenario:
        """A named preset: ``"paper"`` (Sec. 5.1) or ``"paper-kd"`` (Sec. 5.2)."""
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; presets are {sorted(SCENARIOS)}")
        return SCENARIOS[name]

    def bandwidth_range(self, name: str) -> Range:
        """The range ``name`` (``"edge_bandwidth"`` or ``"cloud_bandwidth"``) is drawn from:
        ``(max(low, min_bandwidth), high)`` bytes/s."""
        low, high = getattr(self, name)
        return max(low, self.min_bandwidth), high


def as_scenario(scenario: str | Scenario) -> Scenario:
    """A :class:`Scenario` from a preset name or itself."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str):
        return Scenario.preset(scenario)
    raise TypeError(
        f"scenario must be a preset name {sorted(SCENARIOS)} or a Scenario; got {scenario!r}"
    )


_PAPER = dict(
    cycles=(0.0, 2000e6),
    data=(0.0, 10 * MEGA),
    device_hz=(100e6, 1000e6),
    edge_hz=(500e6, 5000e6),
    edge_bandwidth=(0.0, 2 * MEGA),
    cloud_bandwidth=(0.0, 3 * MEGA),
)


SCENARIOS: dict[str, Scenario] = {
    # Sec. 5.1 of the paper.
    "paper": Scenario(**_PAPER, name="paper"),
    # Sec. 5.2: narrower cycles and data, the rest as Sec. 5.1.
    "paper-kd": Scenario(
        **{**_PAPER, "cycles": (500e6, 1500e6), "data": (3 * MEGA, 8 * MEGA)}, name="paper-kd"
    ),
}
