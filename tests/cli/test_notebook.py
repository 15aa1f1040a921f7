"""Executes notebooks/quickstart.ipynb top to bottom (code cells in one namespace) at tiny settings,
on the shared tiny run so the pipeline cell resumes instead of recomputing."""

import json
from pathlib import Path

import matplotlib

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def test_quickstart_runs_top_to_bottom(tiny_run, monkeypatch):
    out, metrics = tiny_run
    matplotlib.use("Agg")
    monkeypatch.setenv("AXOJAX_QUICKSTART_PRESET", "tiny")
    monkeypatch.setenv("AXOJAX_QUICKSTART_OUT", str(out))
    nb = json.loads(NOTEBOOK.read_text())
    assert nb["cells"][1]["cell_type"] == "code" and "pip" in "".join(nb["cells"][1]["source"])
    namespace: dict = {"__name__": "__quickstart__"}
    n_code = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        exec(compile("".join(cell["source"]), f"quickstart cell {n_code}", "exec"), namespace)
        n_code += 1
    assert n_code >= 5
    assert namespace["metrics"]["worst_case_validation"] == metrics["worst_case_validation"]
    assert namespace["new"].n_voxels == namespace["brain"].n_voxels
    assert float(namespace["res"].peak_mt_strain) > 0
