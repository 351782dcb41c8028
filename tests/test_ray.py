"""Sweeps on a real Ray cluster give the serial results; the cluster is the test's own.

The test's Ray head (``experiments.ray_head``) reads nothing of the user's Ray: a temporary
``HOME``, none of the user's ``RAY_*`` variables, free ports on 127.0.0.1 only, and a process
group of its own that stopping it stops (never ``ray stop``, which kills every Ray process on
the machine).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_module

pytest.importorskip("ray")
pytest.importorskip("hydra_plugins.hydra_ray_launcher")

from experiments.ray_head import RayHead, accepts, core_of, group_of, ray_head


@pytest.fixture(scope="module")
def head() -> Iterator[RayHead]:
    """One head for the module: starting one takes several seconds."""
    with ray_head() as running:
        yield running


def test_stopping_a_head_stops_only_its_own_processes(head):
    # The module's head stands for a user's Ray: a second head comes and goes beside it.
    before = core_of(head)
    with ray_head() as other:
        assert other.pgid != head.pgid
        assert group_of(other.pgid).isdisjoint(group_of(head.pgid))
    assert not group_of(other.pgid)
    assert group_of(head.pgid) >= before, "stopping a head stopped another's processes"
    assert accepts(int(head.address.rsplit(":", 1)[1]))


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


def test_a_sobol_study_on_a_ray_cluster_equals_the_serial_one(head, tmp_path):
    """The bench's Sobol' study (its scale rows) on the head, in a driver of its own."""
    import pandas as pd

    from experiments import bench

    study = bench.sobol_study(4, "small", 40)
    bench.coordinated_study(study.specs, 1, where=tmp_path / "serial")
    on_ray = bench.sobol_on_ray(4, "small", 40, tmp_path / "ray", head=head)
    a = pd.read_parquet(tmp_path / "serial" / "runs.parquet")
    b = pd.read_parquet(tmp_path / "ray" / "runs.parquet")
    assert len(a) == 2 * 4 * (len(bench.SOBOL_FACTORS) + 2)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(study.indices(a), study.indices(b))
    assert on_ray["run_seconds"] > 0 and on_ray["round_trip"] > 0
