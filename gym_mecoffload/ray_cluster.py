"""Connecting to a Ray cluster, and failing fast where none answers.

Ray retries an address where nothing listens for many minutes (about 12 with Ray
2.60's defaults), so :func:`connect_ray` first checks the address's form and then
probes its port with a plain TCP connection and a deadline.
"""

from __future__ import annotations

import math
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

CONNECT_TIMEOUT_S = 10.0  # how long connect_ray waits for a cluster's port by default

_ADDRESS_FORMS = (
    "HOST:PORT (the cluster's GCS, as `ray start --head` prints it; port 6379 by default), "
    "ray://HOST:PORT (Ray Client; port 10001 by default), 'auto' or 'local'"
)


def check_ray_address(address: object, source: str = "address") -> None:
    """A ValueError naming the forms Ray takes unless ``address`` is one of them
    (``source`` says where it came from, for the message)."""
    _ray_endpoint(address, source)


def connect_ray(
    address: str | None = None,
    workers: int | None = None,
    *,
    timeout_s: float | None = CONNECT_TIMEOUT_S,
) -> Any:
    """The ``ray`` module, initialised; a Ray already initialised in this process is kept
    as it is (``address`` is then checked for its form only).

    Args:
        address: where the cluster is:

            * ``"HOST:PORT"``: a cluster's GCS, as ``ray start --head`` prints it (an
              IPv6 host in brackets: ``"[::1]:6379"``);
            * ``"ray://HOST:PORT"``: a cluster through Ray Client;
            * ``"auto"``: as Ray documents it: ``RAY_ADDRESS``, else the cluster last
              started on this machine by ``ray start`` (the address Ray keeps in
              ``$RAY_TMPDIR/ray/ray_current_cluster``, ``/tmp/ray/...`` by default),
              else one running here; ``ConnectionError`` if there is none;
            * ``"local"``: a new Ray instance in this machine, with ``workers`` CPUs.

            Default: ``RAY_ADDRESS`` (the same forms), else ``"local"``.
        workers: the CPUs of a local instance (default every core); a cluster has its own.
        timeout_s: how long to wait for the cluster's port to accept a TCP connection
            before giving up. Ray itself retries an address where nothing listens for
            many minutes (about 12 with Ray 2.60's defaults), so this probe comes first:
            an address that refuses fails at once, one that does not answer at all fails
            after ``timeout_s`` (the host name's lookup takes what the system resolver
            takes). None skips the probe and leaves it to Ray. Something else
            listening there (another service, a proxy) passes the probe; Ray then gives
            up by itself, after about 20 s if it answers errors, after minutes if it
            never answers at all.

    Raises:
        ValueError: ``address`` (or ``RAY_ADDRESS``) is not one of the forms above.
        ConnectionError: nothing accepts a connection there within ``timeout_s``, or
            Ray found no cluster there; the message names the address, where it came
            from, and what to check.
        ImportError: Ray is not installed.
    """
    if address is not None:
        _ray_endpoint(address)  # a malformed address fails before anything else
    if timeout_s is not None and (
        isinstance(timeout_s, bool)
        or not isinstance(timeout_s, (int, float))
        or not math.isfinite(timeout_s)
        or timeout_s <= 0
    ):
        raise ValueError(
            f"timeout_s must be a finite number of seconds > 0, or None; got {timeout_s!r}"
        )
    try:
        import ray
    except ImportError:
        raise ImportError(
            'executor="ray" needs Ray: pip install "gym-mecoffload[distributed]"'
        ) from None
    if ray.is_initialized():
        return ray
    source = "the address given"
    if address is None:
        address, source = os.environ.get("RAY_ADDRESS") or "local", "RAY_ADDRESS"
        _ray_endpoint(address, source)
    if address == "auto":
        address, source = _auto_address(source)
    options: dict[str, Any] = {"include_dashboard": False}
    if address == "local":
        options["num_cpus"] = workers or os.cpu_count() or 1
    else:
        endpoint = _ray_endpoint(address, source)
        if endpoint is not None and timeout_s is not None:
            _probe(address, source, *endpoint, timeout_s)
    started = time.monotonic()
    try:
        ray.init(address=address, **options)
    except ConnectionError as error:  # something answered, but Ray found no cluster there
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ConnectionError(
            _no_cluster(address, source, f"Ray: {reason}", time.monotonic() - started)
        ) from error
    return ray


_HOST_PORT = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.%]+)\]|(?P<host>[^\s:/\[\]@?#]+)):(?P<port>\d+)"
)


def _ray_endpoint(address: object, source: str = "address") -> tuple[str, int] | None:
    """``(host, port)`` of a Ray address; None for ``"auto"`` and ``"local"``.

    Raises ValueError, naming the forms Ray takes, for anything else."""

    def refuse(why: str) -> ValueError:
        return ValueError(
            f"{source} must be a Ray cluster address: {_ADDRESS_FORMS}; got {address!r} ({why})"
        )

    if not isinstance(address, str):
        raise refuse(f"of type {type(address).__name__}, not a str")
    if address in ("auto", "local"):
        return None
    text = address
    if "://" in text:
        scheme, _, text = text.partition("://")
        if scheme != "ray":
            raise refuse(
                f"{scheme}:// is not a cluster's address: only ray:// (Ray Client) is; "
                "http:// is the dashboard's, for job submission"
            )
    if not text.strip():
        raise refuse("empty")
    match = _HOST_PORT.fullmatch(text)
    if match is None:
        if text.count(":") == 0:
            raise refuse("no port")
        if text.count(":") > 1 and not text.startswith("["):
            raise refuse("more than one ':'; an IPv6 host goes in brackets: [::1]:6379")
        raise refuse("not HOST:PORT")
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise refuse(f"port {port} is outside 1..65535")
    return match["ipv6"] or match["host"], port


def _auto_address(source: str) -> tuple[str, str]:
    """What ``"auto"`` names (Ray's documented order) when we can know it beforehand:
    ``RAY_ADDRESS``, else the address ``ray start`` left in Ray's temp dir, else
    ``"auto"`` itself (Ray then looks for a running instance, quickly)."""
    environment = os.environ.get("RAY_ADDRESS")
    if environment and environment != "auto":
        return environment, "RAY_ADDRESS (for 'auto')"
    # Ray's own temp dir rule: RAY_TMPDIR, else TMPDIR on Linux, else /tmp (POSIX).
    temp = os.environ.get("RAY_TMPDIR") or (
        os.environ.get("TMPDIR") if sys.platform.startswith("linux") else None
    )
    if temp is None:
        import tempfile

        temp = "/tmp" if os.name == "posix" else tempfile.gettempdir()
    current = Path(temp) / "ray" / "ray_current_cluster"
    try:
        recorded = current.read_text().strip()
    except OSError:  # no cluster started by `ray start` here
        return "auto", source
    if not recorded:
        return "auto", source
    return recorded, (
        f"{current} (for 'auto': written by the last `ray start` here; stale if that "
        "cluster is gone, and `ray stop` removes it)"
    )


def _probe(address: str, source: str, host: str, port: int, timeout_s: float) -> None:
    """Return once something accepts a TCP connection at ``host:port``; else raise
    ConnectionError within about ``timeout_s`` (after the name lookup)."""
    started = time.monotonic()
    deadline = started + timeout_s
    try:
        candidates = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:  # socket.gaierror: no such host
        reasons = [f"cannot resolve {host!r}: {error}"]
    else:
        reasons = []
        for family, kind, protocol, _, sockaddr in candidates:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            with socket.socket(family, kind, protocol) as probe:
                probe.settimeout(left)
                try:
                    probe.connect(sockaddr)
                    return
                except TimeoutError:
                    reasons.append(f"{sockaddr[0]} does not answer")
                except OSError as error:
                    reasons.append(f"{sockaddr[0]}: {error.strerror or error}")
    reason = "; ".join(reasons) or "no address answered"
    elapsed = time.monotonic() - started
    raise ConnectionError(
        _no_cluster(address, source, f"{reason}; timeout_s={timeout_s:g}", elapsed)
    )


def _no_cluster(address: str, source: str, reason: str, elapsed: float) -> str:
    """Why ``address`` is no Ray cluster, and what to check."""
    return (
        f"no Ray cluster answers at {address!r}, from {source} ({reason}; gave up after "
        f"{elapsed:.1f} s). Check the address (the head node's `ray start --head` prints it, "
        "`ray status` there says whether the cluster is up), RAY_ADDRESS if set, and that "
        "this machine can reach that port; a slow link may need a larger timeout_s "
        "(call connect_ray(address, timeout_s=...) before running)."
    )
