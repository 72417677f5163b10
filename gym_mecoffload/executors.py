"""Independent shards of work on this machine's processes or on a Ray cluster.

Dataset generators and experiment sweeps cut their work into shards whose results
are pure functions of the shard (each draws from its own seeded stream). The
results are gathered in shard order, so what comes back is the same, bit for bit,
whichever executor runs it and however many workers it has.

Ray is optional (``pip install "gym-mecoffload[distributed]"``) and imported only
when ``executor="ray"`` is asked for. On Ray:

* the cluster is the one at ``address``, else ``RAY_ADDRESS``, else a local Ray
  instance started with ``workers`` CPUs (every core when ``workers`` is None);
  a Ray already initialised in this process (with your own ``runtime_env``, say)
  is used as it is, and left running afterwards;
* each shard is one Ray task with one CPU. A task whose worker process dies is
  run again by Ray, up to ``retries`` times: its shard is never lost, and since
  every shard is gathered exactly once, never counted twice. An exception raised
  by the shard's own code is not retried (it would fail again): it cancels the
  shards still running and propagates.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar

from gym_mecoffload.core.checks import check_count

ExecutorName = Literal["local", "ray"]
EXECUTORS: tuple[str, ...] = ("local", "ray")
DEFAULT_RETRIES = 3

Shard = TypeVar("Shard")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Executor:
    """Where independent shards of work run: the one value generators, sweeps and studies take.

    Attributes:
        name: ``"local"``: processes on this machine; ``"ray"``: Ray tasks (module doc).
        workers: most shards at once. None means every core here (``"local"``) and, on
            Ray, as many as the cluster schedules (a local Ray instance then gets every
            core). 1 runs the shards one after another in this process (``"local"``).
        address: the Ray cluster's address (``"ray"`` only; default ``RAY_ADDRESS``, else
            a local Ray instance).
    """

    name: ExecutorName = "local"
    workers: int | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or self.name not in EXECUTORS:
            raise ValueError(f"executor must be one of {EXECUTORS}; got {self.name!r}")
        if self.workers is not None:
            object.__setattr__(self, "workers", check_count("workers", self.workers, 1))
        if self.address is not None:
            if self.name != "ray":
                raise ValueError(
                    f"address applies only to executor='ray'; got executor={self.name!r}"
                )
            if not isinstance(self.address, str) or not self.address.strip():
                raise ValueError(
                    f"address must be a Ray cluster address (a str); got {self.address!r}"
                )

    @property
    def in_process(self) -> bool:
        """Whether every shard runs here, one after another (local, one worker)."""
        return self.name == "local" and self.workers == 1

    def local_workers(self) -> int:
        """How many local processes run shards: ``workers``, else every core here."""
        return (os.cpu_count() or 1) if self.workers is None else self.workers


SEQUENTIAL = Executor("local", workers=1)  # one shard after another, in this process
EVERY_CORE = Executor("local")  # a process per core here


def as_executor(executor: Executor | str) -> Executor:
    """An :class:`Executor` from itself or a name (``"local"``: every core; ``"ray"``)."""
    if isinstance(executor, Executor):
        return executor
    if isinstance(executor, str):
        return Executor(executor)  # type: ignore[arg-type]
    raise TypeError(
        f"executor must be an Executor or one of {EXECUTORS}; got {executor!r} "
        f"of type {type(executor).__name__}"
    )


def connect_ray(address: str | None = None, workers: int | None = None) -> Any:
    """The ``ray`` module, initialised: the cluster at ``address`` (else ``RAY_ADDRESS``),
    else a local instance with ``workers`` CPUs. A Ray already initialised is kept."""
    try:
        import ray
    except ImportError:
        raise ImportError(
            'executor="ray" needs Ray: pip install "gym-mecoffload[distributed]"'
        ) from None
    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS") or None
        options: dict[str, Any] = {"include_dashboard": False}
        if address is None:
            options["num_cpus"] = workers or os.cpu_count() or 1
        ray.init(address=address, **options)
    return ray


def run_shards(
    function: Callable[[Shard], Result],
    shards: Sequence[Shard],
    *,
    executor: Executor | str = "local",
    retries: int = DEFAULT_RETRIES,
    progress: str | None = None,
) -> list[Result]:
    """``[function(shard) for shard in shards]``, computed by ``executor``.

    Args:
        function: a module-level function, or a ``functools.partial`` of one (it is
            pickled to reach the workers; on Ray it is stored once for every shard).
        shards: its arguments, one per shard.
        executor: an :class:`Executor` or its name: local processes (in this process
            for one worker or one shard), or Ray tasks (module doc).
        retries: how many times Ray reruns a shard whose worker died.
        progress: what a progress bar on stderr counts (e.g. ``"labelling DAGs"``);
            None for no bar.

    Returns:
        the results, in the order of ``shards``.
    """
    executor = as_executor(executor)
    if not callable(function):
        raise TypeError(
            f"function must be callable (one shard in, one result out); got {function!r}"
        )
    retries = check_count("retries", retries, 0)
    if progress is not None and not isinstance(progress, str):
        raise TypeError(f"progress must be what the bar counts (a str) or None; got {progress!r}")
    shards = list(shards)
    if not shards:
        return []
    if executor.name == "local" and executor.local_workers() > 1 and len(shards) > 1:
        _check_picklable(function)  # Ray pickles with cloudpickle, which takes lambdas
    bar = _Progress(progress, len(shards))
    if executor.name == "ray":
        return _run_on_ray(function, shards, executor, retries, bar)
    workers = executor.local_workers()
    if workers == 1 or len(shards) == 1:
        results = []
        for shard in shards:
            results.append(function(shard))
            bar.advance()
        return results
    gathered = _Gathered(len(shards))
    with ProcessPoolExecutor(max_workers=min(workers, len(shards))) as pool:
        running: dict[Future, int] = {pool.submit(function, s): i for i, s in enumerate(shards)}
        try:
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    gathered.put(running.pop(future), future.result())
                    bar.advance()
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return gathered.results()


def _run_on_ray(
    function: Callable[[Shard], Result],
    shards: list[Shard],
    executor: Executor,
    retries: int,
    bar: _Progress,
) -> list[Result]:
    ray = connect_ray(executor.address, executor.workers)
    remote = ray.remote(_apply).options(
        name=_name(function), num_cpus=1, max_retries=retries, retry_exceptions=False
    )
    # Stored once in the object store: the function may carry data (a partial's arguments).
    function_ref = ray.put(function)
    window = executor.workers or len(shards)
    gathered = _Gathered(len(shards))
    running: dict[Any, int] = {}
    submitted = 0
    try:
        while submitted < len(shards) or running:
            while submitted < len(shards) and len(running) < window:
                running[remote.remote(function_ref, shards[submitted])] = submitted
                submitted += 1
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                gathered.put(running.pop(ref), ray.get(ref))
                bar.advance()
    except BaseException:
        for ref in running:
            ray.cancel(ref)
        raise
    return gathered.results()


def _check_picklable(function: Callable) -> None:
    """Workers receive ``function`` pickled: refuse, before any work, what cannot travel."""
    try:
        pickle.dumps(function)
    except Exception as error:  # pickle raises several kinds for what it cannot take
        raise TypeError(
            "function must be picklable to run on other processes: a module-level function "
            "or a functools.partial of one, not a lambda or a function defined inside "
            f"another; {function!r} is not ({type(error).__name__}: {error})"
        ) from None


def _apply(function: Callable[[Shard], Result], shard: Shard) -> Result:
    # Ray's remote wants a plain function; partials and callables travel as an argument.
    return function(shard)


def _name(function: Callable) -> str:
    """What Ray calls the tasks (its dashboard, the workers' process titles)."""
    while isinstance(function, partial):
        function = function.func
    return getattr(function, "__name__", type(function).__name__)


class _Gathered:
    """Results by shard index: each exactly once, none missing."""

    def __init__(self, count: int) -> None:
        self._results: list[Any] = [None] * count
        self._filled = [False] * count

    def put(self, index: int, value: Any) -> None:
        if self._filled[index]:
            raise RuntimeError(f"shard {index} came back twice")
        self._results[index] = value
        self._filled[index] = True

    def results(self) -> list[Any]:
        missing = [i for i, filled in enumerate(self._filled) if not filled]
        if missing:
            raise RuntimeError(f"shards {missing} never came back")
        return self._results


class _Progress:
    """A bar on stderr counting finished shards (silent without a label)."""

    def __init__(self, label: str | None, total: int) -> None:
        self.label, self.total, self.done = label, total, 0

    def advance(self) -> None:
        self.done += 1
        if self.label is None:
            return
        filled = int(30 * self.done / self.total)
        end = "\n" if self.done == self.total else ""
        print(
            f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} shards",
            end=end,
            file=sys.stderr,
            flush=True,
        )
