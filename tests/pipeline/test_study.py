"""The whole study on small real-format data through the study file (tiny settings)."""

import json

import nibabel as nib
import numpy as np
import pytest

from axojax.cli import main
from axojax.surrogate import OUTPUT_NAMES


@pytest.fixture(scope="module")
def study_run(study_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("study_run")
    assert main(["run", "--config", str(study_dir / "study.toml"), "--out", str(out)]) == 0
    return out, json.loads((out / "metrics.json").read_text())


def test_study_runs_end_to_end_from_the_config(study_run, study_dir):
    out, m = study_run
    kin = m["impacts"]["kinematics"]
    names = [r["name"] for r in kin]
    assert sorted(names) == ["hit_deg", "hit_omega", "season[0]", "season[1]"]
    assert m["impacts"]["held_out"] == names[-1] == "season[1]"  # the largest peak |α| (6,000 rad/s²)
    for r in kin:
        assert r["rate_hz"] == pytest.approx(10_000.0) and r["damage_loss_pct"] <= 1.0
        assert r["damage_full_record"] > 0 and r["damage_window"] > 0
    deg = next(r for r in kin if r["name"] == "hit_deg")
    assert deg["peak_ang_vel_rad_s"] == pytest.approx(2 * 1500.0 * 0.015 / np.pi, rel=2e-3)  # deg/s -> rad/s
    assert (out / "impacts" / "kinematics.csv").read_text().count("\n") == 5
    # the user's mask and V1 define the brain; the imported strain feeds its impact
    wm = nib.load(study_dir / "wm.nii.gz")
    assert m["brain"]["n_voxels"] == int((np.asarray(wm.dataobj) >= 0.45).sum())
    img = nib.load(out / "maps" / "tau_failure_pct.nii.gz")
    assert img.shape == wm.shape and np.allclose(img.affine, wm.affine)
    for name in OUTPUT_NAMES:
        assert (out / "maps" / f"{name}.nii.gz").exists()
    # maps.impacts = "all": every impact in DIR/maps/<name>/, the held-out one equal to DIR/maps
    assert set(m["maps"]["all_impacts"]) == set(names)
    for folder in ("hit_deg", "hit_omega", "season_0_", "season_1_"):
        assert (out / "maps" / folder / "tau_failure_pct.nii.gz").exists()
    np.testing.assert_array_equal(
        nib.load(out / "maps" / "season_1_" / "tau_failure_pct.nii.gz").get_fdata(), img.get_fdata()
    )
    prov = json.loads((out / "provenance.json").read_text())
    inputs = {p.split("/")[-1]: h for p, h in prov["inputs"].items()}
    assert {
        "season.mat",
        "hit_omega.csv",
        "hit_deg.csv",
        "wm.nii.gz",
        "dti_V1.nii.gz",
        "hit_omega.npz",
    } <= set(inputs)
    assert all(len(h) == 64 for h in inputs.values()) and prov["axojax_version"]


def test_imported_strain_gives_the_head_model_profiles(study_run):
    """hit_omega's strain file holds the reduced model's field; its profiles match those of hit_deg's
    path (reduced model) up to the window placement: compare against the model directly."""
    from axojax.fiberstrain import ProfileDataset

    out, m = study_run
    ds = ProfileDataset.open(out / "profiles")
    names = list(ds.impact_names)
    prof = np.asarray(ds.read_impact(names.index("hit_omega")))
    assert prof.shape[1] == round(m["impacts"]["window_ms"])
    assert 0.001 < np.abs(prof).max() < 0.5 and np.all(np.isfinite(prof))
    assert ds.metadata["hit_omega"]["strain_file"].endswith("hit_omega.npz")


def test_batch_predict_maps_every_impact_with_one_table(study_run, study_dir, tmp_path, capsys):
    out, m = study_run
    dest = tmp_path / "pred"
    code = main(
        [
            "predict",
            "--model",
            str(out / "surrogate" / "model"),
            "--impacts",
            str(study_dir / "kinematics" / "season.mat"),
            "--out",
            str(dest),
        ]
    )
    assert code == 0
    rows = json.loads((dest / "impacts.json").read_text())
    assert [r["name"] for r in rows] == ["season[0]", "season[1]"]
    for r in rows:
        assert r["damage_window"] > 0 and r["peak_ang_acc_rad_s2"] > 0 and 0.0 <= r["ood_fraction"] <= 1.0
        assert "tau_failure_pct_p95" in r and "tau_failure_pct_frac_ge_10" in r
        assert r["compute_s"] > 0 and r["write_s"] > 0 and "profiles_s" not in r  # no null timing column
        assert (dest / r["name"].replace("[", "_").replace("]", "_") / "tau_failure_pct.nii.gz").exists()
    header = (dest / "impacts.csv").read_text().splitlines()[0].split(",")
    assert header[0] == "name" and "damage_full_record" in header and "ood_fraction" in header
    # the held-out impact mapped by predict equals the run's own maps of it (same window, same brain)
    held = nib.load(dest / "season_1_" / "tau_failure_pct.nii.gz").get_fdata()
    np.testing.assert_allclose(held, nib.load(out / "maps" / "tau_failure_pct.nii.gz").get_fdata(), atol=1e-5)
    assert "2 impact(s)" in capsys.readouterr().out


def test_resume_refuses_a_changed_input(study_run, study_dir, capsys):
    out, _ = study_run
    cfg = str(study_dir / "study.toml")
    assert main(["run", "--config", cfg, "--out", str(out)]) == 0  # resumes: every stage is on disk
    csv = study_dir / "kinematics" / "hit_deg.csv"
    original = csv.read_bytes()
    try:
        csv.write_bytes(original.replace(b"\n0.", b"\n0.0", 1))
        capsys.readouterr()
        assert main(["run", "--config", cfg, "--out", str(out)]) == 2
    finally:
        csv.write_bytes(original)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("axojax: error:") and "hit_deg.csv: changed since the run" in err[-1]
    assert not any("Traceback" in line for line in err)
