"""Sweeps on a real Ray cluster (started here on 127.0.0.1) give the serial results."""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytest.importorskip("ray")
pytest.importorskip("hydra_plugins.hydra_ray_launcher")
RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    port = _free_port()
    temp = tmp_path_factory.mktemp("ray")
    start = subprocess.run(
        [
            str(RAY),
            "start",
            "--head",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert start.returncode == 0, start.stderr[-2000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_a_sweep_on_a_ray_cluster_equals_the_serial_sweep(ray_head, tmp_path):
    common = ["-m", "scenario=baseline,liaison", "seed=1,2", "days=80", "warmup_days=10"]
    on_ray = run_cli(
        *common,
        "hydra/launcher=ray",
        f"hydra.launcher.ray.init.address={ray_head}",
        f"hydra.sweep.dir={tmp_path / 'ray'}",
        timeout=600,
    )
    assert on_ray.returncode == 0, on_ray.stderr[-3000:]
    serial = run_cli(*common, "hydra/launcher=basic", f"hydra.sweep.dir={tmp_path / 'serial'}")
    assert serial.returncode == 0, serial.stderr[-3000:]
    ray_runs = sorted((tmp_path / "ray").glob("*/summary.json"))
    serial_runs = sorted((tmp_path / "serial").glob("*/summary.json"))
    assert len(ray_runs) == len(serial_runs) == 4
    for a, b in zip(ray_runs, serial_runs, strict=True):
        assert a.parent.name == b.parent.name
        assert a.read_bytes() == b.read_bytes()
