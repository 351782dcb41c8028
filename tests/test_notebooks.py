"""The notebooks run headless at small scale and produce their figures and key outputs.

Each notebook is a jupytext percent script (``notebooks/*.py``) paired with an ``.ipynb``
committed without outputs. The test executes the ``.ipynb`` with nbclient on the ``python3``
kernel, with ``FUNNEL_NB_SMALL=1`` (short runs, few replicates) and ``FUNNEL_NB_OUT`` pointing
into a temporary directory, so nothing is written into the project.
"""

from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NB_DIR = ROOT / "notebooks"
NOTEBOOKS = ["01_compare_tactics", "02_your_funnel", "03_extend_agent_rules"]
KERNEL = "python3"  # a kernel name every ipykernel install provides (never a local one)


def execute(name: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    """Run notebook ``name`` at small scale; keep the executed copy in ``out`` for debugging."""
    monkeypatch.setenv("FUNNEL_NB_SMALL", "1")
    monkeypatch.setenv("FUNNEL_NB_OUT", str(out))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's path migration
    nb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        nb, kernel_name=KERNEL, timeout=180, resources={"metadata": {"path": str(NB_DIR)}}
    )
    try:
        client.execute()
    finally:
        nbformat.write(nb, out / f"{name}.executed.ipynb")
    return nb


def outputs(nb: nbformat.NotebookNode) -> tuple[int, str]:
    """The number of PNG images the notebook displayed, and all its text output."""
    images, texts = 0, []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            images += "image/png" in data
            texts.append(out.get("text", ""))
            texts += [data.get(kind, "") for kind in ("text/plain", "text/markdown", "text/html")]
    return images, "\n".join(texts)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_paired_with_its_script_and_has_no_outputs(name):
    ipynb = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4)
    script = jupytext.read(NB_DIR / f"{name}.py")
    assert [(c.cell_type, c.source) for c in ipynb.cells] == [
        (c.cell_type, c.source) for c in script.cells
    ], f"{name}.ipynb and {name}.py differ: run 'jupytext --sync notebooks/{name}.py'"
    for cell in ipynb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name}.ipynb is committed with outputs: clear them "
                f"('jupytext --to ipynb notebooks/{name}.py' rewrites it clean)"
            )
    assert ipynb.metadata.kernelspec.name == KERNEL
    assert script.metadata["kernelspec"]["name"] == KERNEL


def test_compare_tactics_notebook(tmp_path, monkeypatch):
    nb = execute("01_compare_tactics", tmp_path, monkeypatch)
    images, text = outputs(nb)
    assert images >= 6  # paired differences, three effect charts, the funnel, the time series
    for fig in (
        "effect_revenue_per_year",
        "effect_win_rate",
        "effect_retention_12m",
        "funnel",
        "timeseries",
        "paired_revenue_differences",
    ):
        assert (tmp_path / "figures" / f"{fig}.png").stat().st_size > 10_000
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert len(set(runs.scenario)) == len(list((ROOT / "conf" / "scenario").glob("*.yaml")))
    assert runs.groupby("scenario").size().eq(3).all()  # three replicates each at small scale
    assert (tmp_path / "report.html").exists()
    assert "revenue/yr" in text and "full_alignment" in text  # the ranked table
    assert "The baseline wins" in text  # the plain-words money summary


def test_your_funnel_notebook(tmp_path, monkeypatch):
    """From the example CRM export to the fit, what it pins down and the tactic ranking."""
    nb = execute("02_your_funnel", tmp_path, monkeypatch)
    images, text = outputs(nb)
    assert images >= 3  # the fit, what the data pins down, the ranking's distribution
    for fig in ("fit_client", "pinned_client"):
        assert (tmp_path / f"{fig}.png").stat().st_size > 10_000
    diagnosis = tmp_path / "diagnosis"
    fitted = pd.read_csv(diagnosis / "fit.csv")
    assert (diagnosis / "diagnose.json").exists()  # the diagnostic finished, as from the CLI
    assert "yours [95%]" in text and "model [90%]" in text  # the fit table
    for statistic in fitted.statistic:
        assert statistic in text
    assert "width_ratio" in text and "identified:" in text  # what the data pins down
    assert "P(best)" in text  # the uncertainty-aware ranking
    assert "The tactic most likely to pay most for 'client' is" in text
    assert "model (baseline, typed)" in text  # the hand-typed team


def test_extend_agent_rules_notebook(tmp_path, monkeypatch):
    nb = execute("03_extend_agent_rules", tmp_path, monkeypatch)
    images, text = outputs(nb)
    assert images >= 1
    assert (tmp_path / "policy_differences.png").stat().st_size > 10_000
    assert "12 runs: 3 policies x 4 seeds" in text
    assert "mean difference" in text and "paired 95% half-width" in text
    for policy in ("newest_first", "marketing_score_first"):
        assert policy in text
