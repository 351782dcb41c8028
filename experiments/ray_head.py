"""A Ray head of this process's own on this machine, reading nothing of the user's Ray.

For the Ray tests (``tests/test_ray.py``) and the bench's Ray rows (``experiments.bench
only=scale``). The head runs with a temporary ``HOME`` (a leftover ``~/.ray/auth_token``
used to switch on token authentication for the head but not for the sweep, which then failed
with "Failed to connect to Ray cluster"), without the user's ``RAY_*`` variables, in a
temporary directory, on free ports and on 127.0.0.1 only. It runs in a process group of its
own, and stopping it stops that group: never ``ray stop``, which kills every Ray process on
the machine. Every process that joins it (a driver) needs its environment, ``RayHead.env``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

RAY = Path(sys.executable).parent / "ray"
START_TIMEOUT = 120  # s, until the head's central server (GCS) accepts connections
STOP_TIMEOUT = 15  # s, for the head to stop its processes before they are killed


@dataclass(frozen=True)
class RayHead:
    """A running Ray head: where to reach it, and how its processes are told apart."""

    address: str
    env: dict[str, str]  # for every process that joins it (the sweep's driver included)
    pgid: int  # the process group of the head and everything it starts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path) -> dict[str, str]:
    """The environment of the local cluster: nothing of the user's Ray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    # The cluster's own token: token authentication on, for the head and its drivers alike.
    (home / ".ray").mkdir()
    (home / ".ray" / "auth_token").write_text(secrets.token_hex(32))
    return env | {
        "HOME": str(home),
        "RAY_AUTH_MODE": "token",
        # Otherwise Ray replaces 127.0.0.1 with the machine's address and its servers
        # listen on every interface; as a single-node cluster (its default on macOS and
        # Windows) every socket binds to 127.0.0.1 (checked with `ss -ltnp`).
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        # On SIGTERM the head first drains its node, for up to 30 s on a busy machine;
        # the local cluster has nothing to drain.
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0",
        # Fixed by default (44217, 44227), so a user's cluster may hold them.
        "AUTOSCALER_METRIC_PORT": str(_free_port()),
        "DASHBOARD_METRIC_PORT": str(_free_port()),
    }


def _processes() -> list[tuple[int, int, int]]:
    """Every live process as (pid, parent pid, process group); zombies have ended."""
    ps = subprocess.run(
        ["ps", "-A", "-o", "pid=,ppid=,pgid=,stat="], capture_output=True, text=True
    )
    rows = (line.split() for line in ps.stdout.splitlines())
    return [(int(p), int(pp), int(g)) for p, pp, g, stat in rows if not stat.startswith("Z")]


def group_of(pgid: int) -> set[int]:
    """The live processes of a process group."""
    return {pid for pid, _, group in _processes() if group == pgid}


def core_of(head: RayHead) -> set[int]:
    """The head and the servers it started itself (workers come and go)."""
    return {pid for pid, parent, _ in _processes() if head.pgid in (pid, parent)}


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _exited(head: subprocess.Popen) -> bool:
    """Whether the head has ended, without reaping it.

    Until it is reaped, its id, which is also its group's, cannot pass to another process,
    so signals to the group reach only the head's processes.
    """
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    return os.waitid(os.P_PID, head.pid, flags) is not None


def _stop(head: subprocess.Popen) -> None:
    """Stop the head's process group, and only that: politely, then by force."""
    os.kill(head.pid, signal.SIGTERM)  # `ray start --block` then stops what it started
    deadline = time.monotonic() + STOP_TIMEOUT
    while not _exited(head) and time.monotonic() < deadline:
        time.sleep(0.1)
    with suppress(ProcessLookupError):
        os.killpg(head.pid, signal.SIGKILL)  # whatever did not stop
    head.wait()
    deadline = time.monotonic() + 10
    while (left := group_of(head.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        raise RuntimeError(f"Ray processes {sorted(left)} outlived the local head")


@contextmanager
def ray_head(num_cpus: int = 2) -> Iterator[RayHead]:
    """Start a Ray head of this process's own, and stop it and all it started afterwards.

    Raises:
        RuntimeError: the head did not start in time (with the tail of its log), or some
            of its processes outlived it.
    """
    # Short paths: Ray's Unix sockets live under its temp dir, and such paths are limited
    # to about 107 characters (pytest's tmp_path is often longer).
    home = Path(tempfile.mkdtemp(prefix="rayhome", dir="/tmp"))
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    env = _env(home)
    port = _free_port()
    log = (temp / "head.log").open("w")
    head = subprocess.Popen(
        [
            str(RAY),
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            f"--ray-client-server-port={_free_port()}",
            f"--dashboard-agent-listen-port={_free_port()}",
            "--min-worker-port=0",  # random ports, not the range (10002-19999) a user's Ray uses
            "--max-worker-port=0",
            f"--num-cpus={num_cpus}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, which _stop stops
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not accepts(port):
            if (ended := _exited(head)) or time.monotonic() > deadline:
                why = "exited" if ended else "did not start in time"
                tail = (temp / "head.log").read_text()[-3000:]
                raise RuntimeError(f"the local Ray head {why}:\n{tail}")
            time.sleep(0.2)
        yield RayHead(f"127.0.0.1:{port}", env, head.pid)
    finally:
        try:
            _stop(head)
        finally:
            log.close()
            shutil.rmtree(temp, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)
