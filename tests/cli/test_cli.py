import dataclasses
import json
from pathlib import Path

import matplotlib
import nibabel as nib
import numpy as np
import pytest

from axojax.brain import default_brain
from axojax.cli import main
from axojax.kinematics import half_sine_pulse
from axojax.pipeline import RunConfig
from axojax.pipeline.impacts import synthetic_impact_list
from axojax.pipeline.simulate import selected_rows
from axojax.pipeline.train import scores
from axojax.surrogate import OUTPUT_NAMES, read_metadata


def test_run_writes_maps_metrics_and_figures(tiny_run):
    out, metrics = tiny_run
    brain = default_brain(6.0)
    for name in OUTPUT_NAMES:
        img = nib.load(out / "maps" / f"{name}.nii.gz")
        assert img.shape == brain.mask.shape
        np.testing.assert_allclose(img.affine, brain.affine)
        data = np.asarray(img.dataobj)
        assert np.all(np.isfinite(data)) and np.count_nonzero(data) > 0
    for fig in ("learning_curve", "worst_case_scatter", "map_slices", "sampling_coverage"):
        assert (out / "figures" / f"{fig}.png").stat().st_size > 1000
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["brain"]["n_voxels"] == brain.n_voxels
    assert on_disk["sampling"]["n_worst"] == 10
    assert on_disk["simulation"]["n_failed"] == 0
    assert on_disk["learning_curve"]["sizes"] == [30, 60]
    val = on_disk["worst_case_validation"]
    assert val["n"] == 10 and set(val["surrogate"]) == set(OUTPUT_NAMES)
    meta = read_metadata(out / "surrogate" / "model")
    assert meta["user"]["axon_preset"] == "male" and meta["user"]["resolution_mm"] == 6.0
    # the worst-case set is saved with simulated and predicted outputs for later checks
    with np.load(out / "sampling" / "worst_case.npz") as z:
        assert z["profiles"].shape == (10, 100) and z["predicted"].shape == (10, 4)
    # every stratified candidate of the held-out impact is simulated and scored too
    held = val["held_out_impact"]
    with np.load(out / "sampling" / "held_out.npz") as z, np.load(out / "sampling" / "selection.npz") as s:
        assert held["n"] == z["voxel"].size == s["n_candidates_per_impact"]
        assert set(z["voxel"]) >= set(s["worst_voxel"])
        assert z["profiles"].shape == (held["n"], 100) and np.all(np.isfinite(z["predicted"]))
    assert set(held["surrogate"]) == set(OUTPUT_NAMES)
    assert on_disk["sampling"]["n_train_from_tail"] == round(0.15 * 60)
    assert metrics["timings"]["total_s"] > 0


def test_maps_mark_the_voxels_in_inverted_fe_elements(tiny_run, tmp_path):
    """The maps stage with a store's excluded flags (voxels in an FE element that inverted): the maps are
    written as before, plus excluded.nii.gz (1 at the flagged voxels) and the count in the report."""
    from axojax.fiberstrain import ProfileDataset
    from axojax.pipeline.maps import stage_maps
    from axojax.surrogate import load_surrogate

    out, _ = tiny_run
    brain = default_brain(6.0)
    model, _ = load_surrogate(out / "surrogate" / "model")
    store = ProfileDataset.open(out / "profiles")
    held = store.impact_names[-1]
    imp = synthetic_impact_list(RunConfig.preset_config("tiny"))[held]
    profiles = np.asarray(store.read_impact(held))
    flags = np.zeros(brain.n_voxels, bool)
    flags[::97] = True
    kw = dict(profiles=profiles, figure=tmp_path / "slices.png")
    plain = stage_maps(tmp_path, model, imp, brain, folder=tmp_path / "plain", **kw)
    marked = stage_maps(tmp_path, model, imp, brain, folder=tmp_path / "marked", excluded=flags, **kw)
    assert plain["n_excluded"] == 0 and not (tmp_path / "plain" / "excluded.nii.gz").exists()
    assert marked["n_excluded"] == int(flags.sum()) > 0
    mask = np.asarray(nib.load(tmp_path / "marked" / "excluded.nii.gz").dataobj)
    np.testing.assert_array_equal(mask[np.asarray(brain.mask)], flags.astype(mask.dtype))
    for name in OUTPUT_NAMES:  # the outputs themselves are unchanged
        a = np.asarray(nib.load(tmp_path / "plain" / f"{name}.nii.gz").dataobj)
        np.testing.assert_array_equal(a, np.asarray(nib.load(tmp_path / "marked" / f"{name}.nii.gz").dataobj))


def test_amplitude_variants_are_simulated_and_trained_on(tiny_run):
    from axojax.axon import AxonParams, simulate
    from axojax.campaign import load_campaign

    out, metrics = tiny_run
    n_train = metrics["sampling"]["n_train_selected"]
    copies = RunConfig.preset_config("tiny").augment_copies
    assert copies >= 1
    aug = load_campaign(out / "augment")
    assert metrics["simulation"]["n_amplitude_variants"] == aug.n_profiles == copies * n_train
    assert metrics["training"]["n_train"] == (copies + 1) * n_train
    assert metrics["training"]["n_amplitude_variants"] == copies * n_train
    # each variant is a scaled copy of its source training profile, within the training peak
    main_c = load_campaign(out / "campaign")
    lookup = {tuple(map(int, r)): i for i, r in enumerate(main_c.ids)}
    src = main_c.profiles[[lookup[tuple(map(int, r))] for r in aug.ids]]
    a = np.sum(aug.profiles * src, 1) / np.sum(src * src, 1)
    np.testing.assert_allclose(aug.profiles, a[:, None] * src, atol=1e-7)
    assert a.min() >= 0.75 - 1e-6 and a.max() <= 1.25 + 1e-6 and np.ptp(a) > 0.1
    assert np.abs(aug.profiles).max() <= np.abs(src).max() * (1 + 1e-6)
    # their outputs are simulated, not copied from the source
    t_s = np.asarray(main_c.t_s)
    ref = np.asarray(simulate(t_s, np.asarray(aug.profiles[:4], np.float64), AxonParams.male()).as_array())
    np.testing.assert_allclose(aug.outputs[:4], ref, rtol=1e-3, atol=1e-6)
    with pytest.raises(ValueError, match="augment_copies"):
        RunConfig(augment_copies=-1)
    with pytest.raises(ValueError, match="augment_scale"):
        RunConfig(augment_scale=(1.2, 0.8))


def test_rerun_resumes_and_other_settings_are_refused(tiny_run, capsys):
    out, metrics = tiny_run
    assert main(["train", "--out", str(out), "--preset", "tiny"]) == 0  # everything is on disk
    capsys.readouterr()
    assert main(["run", "--out", str(out), "--preset", "tiny", "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seed" in err[0] and err[0].startswith("axojax: error:")


def test_predict_new_impact(tiny_run, tmp_path, capsys):
    out, _ = tiny_run
    imp = half_sine_pulse(3000.0, 12.0, (0.0, 0.0, 1.0), dt_ms=0.5, window_ms=150.0)
    path = tmp_path / "impact.npz"
    np.savez(
        path,
        t=np.asarray(imp.t_s),
        ang_vel=np.asarray(imp.ang_vel_rad_s),
        ang_acc=np.asarray(imp.ang_acc_rad_s2),
    )
    code = main(
        [
            "predict",
            "--model",
            str(out / "surrogate" / "model"),
            "--impact",
            str(path),
            "--out",
            str(tmp_path / "maps"),
        ]
    )
    assert code == 0
    summary = json.loads((tmp_path / "maps" / "summary.json").read_text())
    assert summary["n_voxels"] == default_brain(6.0).n_voxels
    for name in OUTPUT_NAMES:
        assert (tmp_path / "maps" / f"{name}.nii.gz").exists()
    assert "voxels in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, expect",
    [
        (["predict", "--model", "{tmp}/nope", "--impact", "{tmp}/imp.npz", "--out", "{tmp}/o"], "nope"),
        (
            [
                "predict",
                "--model",
                "{run}/surrogate/model",
                "--impact",
                "{tmp}/missing.npz",
                "--out",
                "{tmp}/o",
            ],
            "missing.npz",
        ),
        (
            ["predict", "--model", "{run}/surrogate/model", "--impact", "{tmp}/bad.txt", "--out", "{tmp}/o"],
            "suffix",
        ),
        (["predict", "--model", "{run}/maps", "--impact", "{tmp}/imp.npz", "--out", "{tmp}/o"], "maps"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny_run, tmp_path, capsys, args, expect):
    out, _ = tiny_run
    (tmp_path / "bad.txt").write_text("not an impact")
    np.savez(tmp_path / "imp.npz", t=np.linspace(0, 0.1, 101), ang_vel=np.zeros((101, 3)))
    argv = [a.format(tmp=tmp_path, run=out) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("axojax: error:") and expect in err[0]


def test_presets():
    paper = RunConfig.preset_config("paper")
    assert (paper.n_impacts, paper.n_train, paper.n_worst, paper.lc_sizes[-1]) == (45, 2000, 75, 4000)
    assert RunConfig.preset_config("default").n_pool == 2000 and paper.n_pool == 4000
    with pytest.raises(ValueError, match="unknown preset"):
        RunConfig.preset_config("huge")
    with pytest.raises(ValueError, match="measure"):
        RunConfig(measure="l2")


def test_held_out_impact_is_drawn_from_the_severe_range():
    config = RunConfig.preset_config("tiny", n_impacts=4, held_out_peak_ang_vel_rad_s=(25.0, 30.0))
    impacts = synthetic_impact_list(config)
    assert list(impacts) == ["train_000", "train_001", "train_002", "train_003", "held_out_004"]
    peak = np.linalg.norm(np.asarray(impacts["held_out_004"].ang_vel_rad_s), axis=-1).max()
    assert 25.0 * 0.97 <= peak <= 30.0  # a biphasic pulse's sampled peak can sit a little below
    # the training impacts do not depend on the held-out range
    other = synthetic_impact_list(dataclasses.replace(config, held_out_peak_ang_vel_rad_s=(2.0, 3.0)))
    for name in list(impacts)[:-1]:
        np.testing.assert_array_equal(impacts[name].ang_acc_rad_s2, other[name].ang_acc_rad_s2)
    assert not np.array_equal(impacts["held_out_004"].ang_acc_rad_s2, other["held_out_004"].ang_acc_rad_s2)
    with pytest.raises(ValueError, match="held_out_peak_ang_vel_rad_s"):
        RunConfig(held_out_peak_ang_vel_rad_s=(30.0, 20.0))
    with pytest.raises(ValueError, match="tail_fraction"):
        RunConfig(tail_fraction=1.5)


def test_selected_rows_unique_in_order():
    sel = {
        "train_impact": np.array([0, 1, 0]),
        "train_voxel": np.array([5, 5, 7]),
        "pool_impact": np.array([1, 2]),
        "pool_voxel": np.array([5, 9]),
        "worst_voxel": np.array([3, 5]),
        "held_out_impact": np.int64(3),
    }
    np.testing.assert_array_equal(selected_rows(sel), [[0, 5], [1, 5], [0, 7], [2, 9], [3, 3], [3, 5]])


def test_scores_constant_truth_has_no_r2():
    y = np.array([[0.01, 0.0], [0.02, 0.0], [0.03, 0.0]])
    y4 = np.concatenate([y, y], axis=1)
    p4 = y4 + np.array([[0.001, 0.0, 0.001, 0.5]])
    s = scores(y4, p4)
    assert s["peak_mt_strain"]["r2"] == pytest.approx(1 - 3e-6 / 2e-4)
    assert s["peak_mt_strain"]["nrmse_pct"] == pytest.approx(100 * 0.001 / 0.02)
    assert s["nf_failure_pct"]["r2"] is None and s["nf_failure_pct"]["constant_truth"]
    assert s["nf_failure_pct"]["rmse"] == pytest.approx(0.5)


def test_predict_from_imported_strain_matches_the_head_model_path(tiny_run, tmp_path):
    """An exported strain field of the head model, imported again, gives the same profiles and maps."""
    import jax.numpy as jnp

    from axojax.headmodel import ReducedHeadModel, strain_history
    from axojax.wholebrain import external_profiles, impact_profiles, read_maps

    out, _ = tiny_run
    brain = default_brain(6.0)
    imp = half_sine_pulse(3000.0, 12.0, (0.0, 0.0, 1.0), dt_ms=1.0, window_ms=100.0)
    every = np.arange(0, brain.n_voxels, 7)
    coords = np.asarray(brain.coords_mm)[every]
    strain = np.asarray(strain_history(ReducedHeadModel(), imp.t_s, imp.ang_acc_rad_s2, jnp.asarray(coords)))
    path = tmp_path / "strain.npz"
    np.savez(path, coords_mm=coords, t_s=np.asarray(imp.t_s), strain=strain)
    ref = np.asarray(impact_profiles(ReducedHeadModel(), imp, brain))
    from axojax.headmodel import load_strain

    prof, covered = external_profiles(load_strain(path), brain, n_time=100, dt_s=1e-3)
    np.testing.assert_array_equal(np.flatnonzero(covered), every)
    np.testing.assert_allclose(prof[covered], ref[every], rtol=1e-4, atol=1e-6)
    assert np.all(prof[~covered] == 0)
    assert (
        main(
            [
                "predict",
                "--model",
                str(out / "surrogate" / "model"),
                "--strain",
                str(path),
                "--out",
                str(tmp_path / "maps"),
            ]
        )
        == 0
    )
    summary = json.loads((tmp_path / "maps" / "summary.json").read_text())
    assert summary["covered_voxels"] == every.size
    assert read_maps(tmp_path / "maps", brain).shape == (brain.n_voxels, 4)


def test_strain_outside_the_brain_is_refused(tiny_run, tmp_path, capsys):
    out, _ = tiny_run
    path = tmp_path / "far.npz"
    np.savez(
        path, coords_mm=np.full((2, 3), 500.0), t_s=np.linspace(0, 0.1, 101), strain=np.zeros((2, 101, 6))
    )
    assert (
        main(
            [
                "predict",
                "--model",
                str(out / "surrogate" / "model"),
                "--strain",
                str(path),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "white matter" in capsys.readouterr().err


# notebooks/quickstart.ipynb top to bottom (code cells in one namespace) at tiny settings, on the shared
# tiny run so the pipeline cell resumes instead of recomputing (in this file, so that `pytest -n 2 --dist
# loadfile` builds the tiny run once)
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
    assert namespace["row"]["damage_window"] > 0 and namespace["config"] == RunConfig.preset_config("tiny")
    assert float(namespace["res"].peak_mt_strain) > 0


def test_failed_fe_solve_is_one_line_and_exit_1(monkeypatch, capsys):
    """A divergence reported by the FE brain inside jit (an `eqx.error_if` runtime error, multi-line) ends
    as one `axojax: error:` line naming the FE solve, exit 1; any other exception still propagates."""
    import axojax.cli._main as cli

    def fail(args):
        raise RuntimeError(
            "INTERNAL: CpuCallback error\n  File ...\n_EquinoxRuntimeError: FEHeadModel: the explicit solve "
            "diverged: an element inverted\n\n---- more traceback ----"
        )

    monkeypatch.setattr(cli, "_axon", fail)
    assert main(["axon", "--out", "x"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("axojax: error: FEHeadModel: the explicit solve diverged")

    def other(args):
        raise RuntimeError("something else")

    monkeypatch.setattr(cli, "_axon", other)
    with pytest.raises(RuntimeError, match="something else"):
        main(["axon", "--out", "x"])
