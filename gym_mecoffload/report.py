"""Tables and result files shared by the comparison and the reproduction."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gym_mecoffload.io import atomic_write


def _cell(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(
    rows: Mapping[str, Mapping[str, Any]],
    columns: Sequence[str],
    *,
    digits: int = 3,
    first: str = "policy",
) -> str:
    """A markdown table: one row per key of ``rows``, one column per name in ``columns``."""
    lines = [
        "| " + " | ".join([first, *columns]) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    for name, figures in rows.items():
        lines.append(
            "| " + " | ".join([name, *(_cell(figures.get(c), digits) for c in columns)]) + " |"
        )
    return "\n".join(lines) + "\n"


def write_json(path: str | os.PathLike, payload: Any) -> Path:
    """``payload`` as indented JSON at ``path``, written atomically."""
    with atomic_write(path, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=False)
        handle.write("\n")
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """``text`` at ``path``, written atomically."""
    with atomic_write(path, "w") as handle:
        handle.write(text)
    return Path(path)
