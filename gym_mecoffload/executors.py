"""Independent shards of work on this machine's processes or on a Ray cluster.

Dataset generators and experiment sweeps cut their work into shards whose results
are pure functions of the shard (each draws from its own seeded stream). The
results are gathered in shard order, so what comes back is the same, bit for bit,
whichever executor runs it and however many workers it has.

A shard whose own code raises does not stop the others: every shard runs, and then
:class:`ShardsFailed` names the failed ones and holds the finished ones' results, so
no finished work is lost. ``KeyboardInterrupt`` and ``SystemExit`` stop everything at
once (the shards not yet finished are cancelled) and propagate unchanged.

Ray is optional (``pip install "gym-mecoffload[distributed]"``) and imported only
when ``executor="ray"`` is asked for. On Ray:

* the cluster is the one at ``address``, else ``RAY_ADDRESS``, else a local Ray
  instance started with ``workers`` CPUs (every core when ``workers`` is None);
  a Ray already initialised in this process (with your own ``runtime_env``, say)
  is used as it is, and left running afterwards. An address where no cluster
  answers fails within :data:`~gym_mecoffload.ray_cluster.CONNECT_TIMEOUT_S`
  (:func:`~gym_mecoffload.ray_cluster.connect_ray`), where Ray
  itself would retry for many minutes;
* each shard is one Ray task with one CPU. A task whose worker process dies is
  run again by Ray, up to ``retries`` times: its shard is never lost, and since
  every shard is gathered exactly once, never counted twice. An exception raised
  by the shard's own code is not retried (it would fail again): it is recorded,
  and the other shards run on.
"""

from __future__ import annotations

import os
import pickle
import reprlib
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeVar

from gym_mecoffload.core.checks import check_count
from gym_mecoffload.ray_cluster import check_ray_address, connect_ray

ExecutorName = Literal["local", "ray"]
EXECUTORS: tuple[str, ...] = ("local", "ray")
DEFAULT_RETRIES = 3

Shard = TypeVar("Shard")
Result = TypeVar("Result")

_SHOWN_FAILURES = 10  # failed shards named one by one in a ShardsFailed message


class ShardsFailed(RuntimeError):
    """Some shards raised; every other shard ran to its end and its result is kept.

    :func:`run_shards` raises it once no shard is left running, ``from`` the failure
    of the lowest-numbered failed shard (``__cause__``, so a traceback shows that
    error and where it came from). The message names each failed shard (index and a
    short description) with its error.

    Attributes:
        failures: ``{shard index: the exception it raised}``, in index order. Locally
            the exception itself (``BrokenProcessPool`` for the shards of a worker
            process that died); on Ray, Ray's ``RayTaskError``, which is also an
            instance of the original exception's type, or ``WorkerCrashedError`` for a
            shard whose worker died more than ``retries`` times.
        results: every shard's result, in shard order; None where it failed.
        shards: the shards, as given: rerun the failed ones with
            ``run_shards(function, [error.shards[i] for i in error.failures])``.
        names: ``{shard index: how the message describes it}`` for the failed shards.
        partial: what the caller made of the finished results, else None (the dataset
            generators put there a dataset of the finished shards' tasks).
        partial_note: what the message says of ``partial`` ("" when None).
    """

    def __init__(
        self,
        failures: Mapping[int, BaseException],
        results: Sequence[Any],
        shards: Sequence[Any],
        names: Mapping[int, str] | None = None,
        partial: Any = None,
        partial_note: str = "",
    ) -> None:
        if not failures:
            raise ValueError("ShardsFailed needs at least one failed shard")
        self.failures: dict[int, BaseException] = dict(sorted(failures.items()))
        self.results: list[Any] = list(results)
        self.shards: list[Any] = list(shards)
        self.names: dict[int, str] = {
            i: (names[i] if names is not None and i in names else _short(self.shards[i]))
            for i in self.failures
        }
        self.partial = partial
        self.partial_note = partial_note
        super().__init__(self._message())

    @property
    def finished(self) -> list[int]:
        """Indices of the shards that finished, in order."""
        return [i for i in range(len(self.results)) if i not in self.failures]

    def with_partial(self, partial: Any, note: str) -> ShardsFailed:
        """The same failure, carrying ``partial`` (what the caller made of the finished
        results) and saying ``note`` of it; raise it ``from`` this one's ``__cause__``."""
        return ShardsFailed(self.failures, self.results, self.shards, self.names, partial, note)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its fields, so it crosses processes (a sweep part that failed).
        return (
            type(self),
            (
                self.failures,
                self.results,
                self.shards,
                self.names,
                self.partial,
                self.partial_note,
            ),
        )

    def _message(self) -> str:
        total, failed = len(self.results), len(self.failures)
        lines = [
            f"{failed} of {total} shards failed; the other {total - failed} finished "
            "(their results are in .results)"
            + (f"; {self.partial_note} are in .partial" if self.partial_note else "")
            + ":"
        ]
        for i, error in list(self.failures.items())[:_SHOWN_FAILURES]:
            lines.append(f"  shard {i} ({self.names[i]}): {_summary(error)}")
        if failed > _SHOWN_FAILURES:
            lines.append(f"  and {failed - _SHOWN_FAILURES} more (all in .failures)")
        return "\n".join(lines)


@dataclass(frozen=True)
class Executor:
    """Where independent shards of work run: the one value generators, sweeps and studies take.

    Attributes:
        name: ``"local"``: processes on this machine; ``"ray"``: Ray tasks (module doc).
        workers: most shards at once. None means every core here (``"local"``) and, on
            Ray, as many as the cluster schedules (a local Ray instance then gets every
            core). 1 runs the shards one after another in this process (``"local"``).
        address: the Ray cluster's address (``"ray"`` only; forms in :func:`connect_ray`;
            default ``RAY_ADDRESS``, else a local Ray instance). Its form is checked here;
            whether a cluster answers there, when the shards are run.
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
            check_ray_address(self.address)

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


def run_shards(
    function: Callable[[Shard], Result],
    shards: Sequence[Shard],
    *,
    executor: Executor | str = "local",
    retries: int = DEFAULT_RETRIES,
    progress: str | None = None,
    describe: Callable[[Shard], str] | None = None,
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
        describe: how an error message names a shard (e.g. the tasks and seed it
            draws); default its ``repr``, shortened.

    Returns:
        the results, in the order of ``shards``.

    Raises:
        ShardsFailed: some shards raised (an ``Exception``). The others all ran: their
            results are in its ``results``, and its message names the failed shards.
        KeyboardInterrupt, SystemExit: as raised, at once; the shards not yet finished
            are cancelled (local worker processes finish the shard they are on).
    """
    executor = as_executor(executor)
    if not callable(function):
        raise TypeError(
            f"function must be callable (one shard in, one result out); got {function!r}"
        )
    retries = check_count("retries", retries, 0)
    if progress is not None and not isinstance(progress, str):
        raise TypeError(f"progress must be what the bar counts (a str) or None; got {progress!r}")
    if describe is not None and not callable(describe):
        raise TypeError(f"describe must be callable (a shard in, a str out); got {describe!r}")
    shards = list(shards)
    if not shards:
        return []
    if executor.name == "local" and executor.local_workers() > 1 and len(shards) > 1:
        _check_picklable(function)  # Ray pickles with cloudpickle, which takes lambdas
    bar = _Progress(progress, len(shards))
    gathered = _Gathered(shards, describe)
    if executor.name == "ray":
        _run_on_ray(function, shards, executor, retries, bar, gathered)
    elif executor.local_workers() == 1 or len(shards) == 1:
        for index, shard in enumerate(shards):
            try:
                value = function(shard)
            except Exception as error:  # recorded; KeyboardInterrupt & co. stop here
                gathered.fail(index, error)
            else:
                gathered.put(index, value)
            bar.advance(gathered.failed)
    else:
        _run_on_processes(function, shards, executor, bar, gathered)
    return gathered.results()


def run_dataset_shards(
    function: Callable[[Shard], Result],
    shards: Sequence[Shard],
    combine: Callable[[list[Result]], Any],
    *,
    shard_size: int,
    executor: Executor | str,
    progress: str | None,
) -> Any:
    """A dataset generator's :func:`run_shards`: ``combine`` makes one dataset of the
    shards' parts. Each shard has ``index``, ``size`` (tasks) and ``seed`` and draws from
    ``default_rng([seed, index])``; an error names it by its tasks and that stream.

    Raises:
        ShardsFailed: as :func:`run_shards`, with ``partial`` the dataset ``combine``
            makes of the finished shards' parts (None if none finished).
    """

    def describe(shard: Any) -> str:
        first = shard.index * shard_size
        return f"tasks {first}..{first + shard.size - 1}, rng [{shard.seed}, {shard.index}]"

    try:
        parts = run_shards(
            function, shards, executor=executor, progress=progress, describe=describe
        )
    except ShardsFailed as failed:
        finished = [failed.results[k] for k in failed.finished]
        partial = combine(finished) if finished else None
        note = f"the {len(partial)} tasks of those shards" if partial is not None else ""
        raise failed.with_partial(partial, note) from failed.__cause__
    return combine(parts)


def _run_on_processes(
    function: Callable[[Shard], Result],
    shards: list[Shard],
    executor: Executor,
    bar: _Progress,
    gathered: _Gathered,
) -> None:
    pool = ProcessPoolExecutor(max_workers=min(executor.local_workers(), len(shards)))
    try:
        running: dict[Future, int] = {pool.submit(function, s): i for i, s in enumerate(shards)}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                try:
                    value = future.result()
                except Exception as error:  # the shard's own error, or its worker died
                    gathered.fail(index, error)
                else:
                    gathered.put(index, value)
                bar.advance(gathered.failed)
    except BaseException:
        # Interrupted: drop the queued shards and return now, not after the running ones.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _run_on_ray(
    function: Callable[[Shard], Result],
    shards: list[Shard],
    executor: Executor,
    retries: int,
    bar: _Progress,
    gathered: _Gathered,
) -> None:
    ray = connect_ray(executor.address, executor.workers)
    remote = ray.remote(_apply).options(
        name=_name(function), num_cpus=1, max_retries=retries, retry_exceptions=False
    )
    # Stored once in the object store: the function may carry data (a partial's arguments).
    function_ref = ray.put(function)
    window = executor.workers or len(shards)
    running: dict[Any, int] = {}
    submitted = 0
    try:
        while submitted < len(shards) or running:
            while submitted < len(shards) and len(running) < window:
                try:
                    running[remote.remote(function_ref, shards[submitted])] = submitted
                except Exception as error:  # this shard cannot be serialised
                    gathered.fail(submitted, error)
                    bar.advance(gathered.failed)
                submitted += 1
            if not running:
                continue
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                index = running.pop(ref)
                try:
                    value = ray.get(ref)
                except Exception as error:  # RayTaskError, or its worker died past retries
                    gathered.fail(index, error)
                else:
                    gathered.put(index, value)
                bar.advance(gathered.failed)
    except BaseException:
        for ref in running:
            ray.cancel(ref)
        raise


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


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def _short(value: object) -> str:
    """``repr(value)``, cut to about 60 characters for a message."""
    try:
        return _REPR.repr(value)
    except Exception:  # a broken __repr__ must not hide the shard's own error
        return f"<{type(value).__name__}>"


def _summary(error: BaseException) -> str:
    """``Type: message`` of an error on one line, cut for a message."""
    ray = sys.modules.get("ray")
    task_error = getattr(getattr(ray, "exceptions", None), "RayTaskError", None)
    if task_error is not None and isinstance(error, task_error) and error.cause is not None:
        error = error.cause  # Ray's wrapper leads with the remote traceback
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


class _Gathered:
    """Results by shard index, each exactly once, none missing; and the failures."""

    def __init__(self, shards: Sequence[Any], describe: Callable[[Any], str] | None = None) -> None:
        self._shards = list(shards)
        self._describe = describe
        self._results: list[Any] = [None] * len(self._shards)
        self._filled = [False] * len(self._shards)
        self._failures: dict[int, BaseException] = {}

    @property
    def failed(self) -> int:
        """How many shards failed so far."""
        return len(self._failures)

    def put(self, index: int, value: Any) -> None:
        self._fill(index)
        self._results[index] = value

    def fail(self, index: int, error: BaseException) -> None:
        self._fill(index)
        self._failures[index] = error

    def results(self) -> list[Any]:
        """Every result, in order; :class:`ShardsFailed` if any shard failed."""
        missing = [i for i, filled in enumerate(self._filled) if not filled]
        if missing:
            raise RuntimeError(f"shards {missing} never came back")
        if self._failures:
            failures = dict(sorted(self._failures.items()))
            names = {i: self._name(i) for i in failures}
            raise ShardsFailed(failures, self._results, self._shards, names) from next(
                iter(failures.values())
            )
        return self._results

    def _fill(self, index: int) -> None:
        if self._filled[index]:
            raise RuntimeError(f"shard {index} came back twice")
        self._filled[index] = True

    def _name(self, index: int) -> str:
        if self._describe is None:
            return _short(self._shards[index])
        try:
            return str(self._describe(self._shards[index]))
        except Exception as error:  # naming must not hide the shard's own error
            return f"{_short(self._shards[index])}; describe failed: {_summary(error)}"


class _Progress:
    """A bar on stderr counting finished shards (silent without a label)."""

    def __init__(self, label: str | None, total: int) -> None:
        self.label, self.total, self.done = label, total, 0

    def advance(self, failed: int = 0) -> None:
        """One more shard finished; ``failed`` of all so far raised."""
        self.done += 1
        if self.label is None:
            return
        filled = int(30 * self.done / self.total)
        end = "\n" if self.done == self.total else ""
        failures = f", {failed} failed" if failed else ""
        print(
            f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
            f"{self.done}/{self.total} shards{failures}",
            end=end,
            file=sys.stderr,
            flush=True,
        )
