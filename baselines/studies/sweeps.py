"""What the experiment scripts share: timestamped logs, and the options that spread a
study's independent parts over processes or Ray (:mod:`gym_mecoffload.executors`)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from gym_mecoffload.executors import EXECUTORS, SEQUENTIAL, Executor, run_shards

Part = TypeVar("Part")
Result = TypeVar("Result")


def log(message: str) -> None:
    """``message`` on stdout after the wall-clock time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def add_executor_arguments(parser: argparse.ArgumentParser, parts: str) -> None:
    """``--executor``, ``--workers`` and ``--address``; read them with :func:`executor_from`."""
    group = parser.add_argument_group("where the independent parts run")
    group.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help=f"run the {parts} as local processes or Ray tasks (default local)",
    )
    group.add_argument(
        "--workers",
        type=int,
        default=None,
        help="most parts at once (default: 1 locally, one after another in this process; "
        "on Ray, as many as the cluster schedules)",
    )
    group.add_argument(
        "--address",
        default=None,
        help="the Ray cluster (default: RAY_ADDRESS, else a local Ray instance)",
    )


def executor_from(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Executor:
    """The :class:`Executor` of ``--executor``, ``--workers`` and ``--address`` (locally,
    one part after another in this process unless ``--workers`` says otherwise); bad
    values exit through ``parser.error``."""
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be >= 1; got {args.workers}")
    if args.address is not None and args.executor != "ray":
        parser.error("--address needs --executor ray")
    if args.executor == "local" and args.workers is None:
        return SEQUENTIAL
    return Executor(args.executor, args.workers, args.address)


def run_parts(
    function: Callable[..., Result],
    parts: Sequence[Part],
    *,
    executor: Executor,
    progress: bool,
    label: str,
) -> list[Result]:
    """``[function(part, progress=...) for part in parts]`` on ``executor``.

    Run one after another in this process (local, one worker), each part shows its own
    progress bars; spread out, a bar counts finished parts instead (workers' bars would
    interleave).
    """
    alone = executor.in_process
    return run_shards(
        partial(function, progress=progress and alone),
        parts,
        executor=executor,
        progress=label if progress and not alone else None,
    )
