"""Sweeps on a real Ray cluster give the serial results; the cluster is the test's own.

The test's Ray head reads nothing of the user's Ray: it runs with a temporary ``HOME`` (a
leftover ``~/.ray/auth_token`` used to switch on token authentication for the head but not
for the sweep, which then failed with "Failed to connect to Ray cluster"), without the
user's ``RAY_*`` variables, in a temporary directory, on free ports and on 127.0.0.1 only.
It runs in a process group of its own, and stopping it stops that group: never
``ray stop``, which kills every Ray process on the machine.
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

import pytest

from tests.conftest import run_module

pytest.importorskip("ray")
pytest.importorskip("hydra_plugins.hydra_ray_launcher")
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
    """The environment of the test's cluster: nothing of the user's Ray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    # The cluster's own token: token authentication on, for the head and the sweep alike.
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
        # the test's cluster has nothing to drain.
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


def _group(pgid: int) -> set[int]:
    """The live processes of a process group."""
    return {pid for pid, _, group in _processes() if group == pgid}


def _core(head: RayHead) -> set[int]:
    """The head and the servers it started itself (workers come and go)."""
    return {pid for pid, parent, _ in _processes() if head.pgid in (pid, parent)}


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _exited(head: subprocess.Popen) -> bool:
    """Whether the head has ended, without reaping it.

    Until it is reaped, its id, which is also its group's, cannot pass to another process,
    so signals to the group reach only the test's processes.
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
    while (left := _group(head.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"Ray processes {sorted(left)} outlived the test's head"


@contextmanager
def ray_head() -> Iterator[RayHead]:
    """Start a Ray head of the test's own, and stop it and all it started afterwards."""
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
            "--num-cpus=2",
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
        while not _accepts(port):
            if (ended := _exited(head)) or time.monotonic() > deadline:
                why = "exited" if ended else "did not start in time"
                tail = (temp / "head.log").read_text()[-3000:]
                pytest.fail(f"the test's Ray head {why}:\n{tail}")
            time.sleep(0.2)
        yield RayHead(f"127.0.0.1:{port}", env, head.pid)
    finally:
        try:
            _stop(head)
        finally:
            log.close()
            shutil.rmtree(temp, ignore_errors=True)
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def head() -> Iterator[RayHead]:
    """One head for the module: starting one takes several seconds."""
    with ray_head() as running:
        yield running


def test_stopping_a_head_stops_only_its_own_processes(head):
    # The module's head stands for a user's Ray: a second head comes and goes beside it.
    before = _core(head)
    with ray_head() as other:
        assert other.pgid != head.pgid
        assert _group(other.pgid).isdisjoint(_group(head.pgid))
    assert not _group(other.pgid)
    assert _group(head.pgid) >= before, "stopping a head stopped another's processes"
    assert _accepts(int(head.address.rsplit(":", 1)[1]))


def _on_ray_and_serially(head: RayHead, tmp_path: Path, module: str, *args: str) -> None:
    """Run ``python -m <module> *args`` on the head (into ray/) and serially (into serial/)."""
    on_ray = run_module(
        module,
        *args,
        "hydra/launcher=ray",
        f"hydra.launcher.ray.init.address={head.address}",
        f"hydra.sweep.dir={tmp_path / 'ray'}",
        env=head.env,
        timeout=600,
    )
    assert on_ray.returncode == 0, on_ray.stderr[-3000:]
    serial = run_module(
        module, *args, "hydra/launcher=basic", f"hydra.sweep.dir={tmp_path / 'serial'}"
    )
    assert serial.returncode == 0, serial.stderr[-3000:]


def test_a_sweep_on_a_ray_cluster_equals_the_serial_sweep(head, tmp_path):
    common = ["-m", "scenario=baseline,liaison", "seed=1,2", "days=80", "warmup_days=10"]
    _on_ray_and_serially(head, tmp_path, "sim", *common)
    ray_runs = sorted((tmp_path / "ray").glob("*/summary.json"))
    serial_runs = sorted((tmp_path / "serial").glob("*/summary.json"))
    assert len(ray_runs) == len(serial_runs) == 4
    for a, b in zip(ray_runs, serial_runs, strict=True):
        assert a.parent.name == b.parent.name
        assert a.read_bytes() == b.read_bytes()


def test_a_comparison_on_a_ray_cluster_equals_the_serial_one(head, tmp_path):
    """The study runner's Ray path: chunks as Ray tasks, the same tidy table as serially."""
    import pandas as pd

    common = ["org=small", "days=60", "warmup_days=10", "replicates=3", "scenarios=liaison"]
    _on_ray_and_serially(head, tmp_path, "experiments.compare_tactics", *common, "chunk_size=2")
    a = pd.read_parquet(tmp_path / "ray" / "runs.parquet")
    b = pd.read_parquet(tmp_path / "serial" / "runs.parquet")
    assert len(a) == 6
    pd.testing.assert_frame_equal(a, b)
