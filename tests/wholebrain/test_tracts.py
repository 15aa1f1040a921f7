"""Tract-level results: tract voxels, AFQ-style tract profiles and the per-tract summary."""

import json

import numpy as np
import pytest

from axojax.brain import brain_from_mask, default_brain
from axojax.brain.tracts import Tracts
from axojax.wholebrain._tracts import MIN_TRACT_OVERLAP, tract_index, tract_profiles, tract_summary

NAMES = ("peak_mt_strain", "tau_failure_pct")


def _line_brain():
    """A 12 x 5 x 5 brain at 2 mm (origin at voxel 0) and one tract of three parallel streamlines along x
    (y = 4 mm, z = 4 mm and one 2 mm off in y), 23 nodes from x = 1 to 21 mm; its core on the middle one."""
    brain = brain_from_mask(np.ones((12, 5, 5), bool), np.diag([2.0, 2.0, 2.0, 1.0]))
    x = np.linspace(1.0, 21.0, 23)
    lines = np.stack([np.stack([x, np.full_like(x, y), np.full_like(x, 4.0)], -1) for y in (3.0, 4.0, 5.0)])
    core = lines[1:2]
    return brain, Tracts(("line",), lines.astype(np.float32), np.zeros(3, np.int32), core.astype(np.float32))


def test_tract_profile_closed_form():
    brain, tracts = _line_brain()
    index = tract_index(brain, tracts)
    assert index.overlap == 1.0
    # the tract's voxels: x = 0..22 mm -> i = 0..11 (nodes at 1 .. 21 mm round to 0 .. 10, midpoints too), at
    # y = 3, 4, 5 mm -> j = 2 (3 mm and 5 mm round to 2 (half to even) and 2/3), k = 2
    members = np.asarray(brain.voxel_ijk)[index.members[0]]
    assert set(members[:, 2]) == {2} and members[:, 0].min() == 0 and members[:, 0].max() == 10
    x = np.asarray(brain.coords_mm)[:, 0]
    values = np.stack([x, 2.0 * x], axis=1).astype(np.float32)
    prof = tract_profiles(values, index)
    assert prof.shape == (1, 23, 2)
    # nearest-voxel x of the nodes: the profile follows the voxel centres along the tract, node 0 to 22
    expected = 2.0 * np.rint(np.linspace(1.0, 21.0, 23) / 2.0)
    np.testing.assert_allclose(prof[0, :, 0], expected, atol=1e-5)
    np.testing.assert_allclose(prof[0, :, 1], 2 * expected, atol=1e-5)


def test_tract_summary_figures():
    brain, tracts = _line_brain()
    x = np.asarray(brain.coords_mm)[:, 0]
    values = np.stack([0.01 * x, x], axis=1).astype(np.float32)  # strain 0 .. 0.22, tau 0 .. 22 %
    ood = x > 15.0
    s = tract_summary(values, brain, index=tract_index(brain, tracts), ood=ood, names=NAMES)
    json.dumps(s, allow_nan=False)
    (item,) = s["items"]
    sel = tract_index(brain, tracts).members[0]
    assert item["n_voxels"] == int(sel.sum()) and item["volume_ml"] == pytest.approx(sel.sum() * 0.008)
    tau = values[sel, 1]
    assert item["outputs"]["tau_failure_pct"]["mean"] == pytest.approx(float(tau.mean()))
    assert item["outputs"]["tau_failure_pct"]["p95"] == pytest.approx(float(np.percentile(tau, 95)))
    above = {a["threshold"]: a["fraction"] for a in item["outputs"]["tau_failure_pct"]["above"]}
    assert above == {10.0: pytest.approx(np.mean(tau >= 10)), 25.0: 0.0, 50.0: 0.0}
    assert item["ood_fraction"] == pytest.approx(float(ood[sel].mean()))
    assert len(item["profile"]["tau_failure_pct"]) == 23 and s["n_nodes"] == 23
    with pytest.raises(ValueError, match="values need shape"):
        tract_summary(values[:, :1], brain, names=NAMES)


def _per_tract_reference(values, ood, index, names):
    """The per-tract figures computed tract by tract, the way `tract_summary` did before it reduced all
    tracts at once: (n, mean, p95, max, fractions above the default thresholds, OOD fraction)."""
    from axojax.wholebrain import DEFAULT_THRESHOLDS

    out = []
    for t in range(len(index.names)):
        sel = index.members[t]
        x = values[sel].astype(np.float64)
        if not sel.any():
            out.append((0, None, None, None, None, None))
            continue
        above = [[np.mean(x[:, j] >= th) for th in DEFAULT_THRESHOLDS[n]] for j, n in enumerate(names)]
        out.append(
            (int(sel.sum()), x.mean(0), np.percentile(x, 95, axis=0), x.max(0), above, ood[sel].mean())
        )
    return out


def test_tract_summary_equals_the_per_tract_reference():
    """All tracts reduced at once (segment sums, maxima, segment sort for p95; sparse profile product) give
    the per-tract numbers: on the 6 mm default brain (20 tracts, random values) and on a tract set with
    one tract off the white matter (no voxels)."""
    brain = default_brain(6.0)
    rng = np.random.default_rng(3)
    values = (rng.uniform(0.0, 1.0, (brain.n_voxels, 2)) * [0.2, 100.0]).astype(np.float32)
    ood = rng.uniform(size=brain.n_voxels) > 0.8
    index = tract_index(brain)
    s = tract_summary(values, brain, index=index, ood=ood, names=NAMES)
    json.dumps(s, allow_nan=False)
    for item, (n, mean, p95, peak, above, ood_fraction) in zip(
        s["items"], _per_tract_reference(values, ood, index, NAMES), strict=True
    ):
        assert item["n_voxels"] == n > 0
        assert item["ood_fraction"] == pytest.approx(ood_fraction, rel=1e-12)
        for j, name in enumerate(NAMES):
            o = item["outputs"][name]
            assert o["mean"] == pytest.approx(mean[j], rel=1e-9)
            assert o["p95"] == pytest.approx(p95[j], rel=1e-12)
            assert o["max"] == pytest.approx(peak[j], rel=0)
            assert [a["fraction"] for a in o["above"]] == pytest.approx(above[j], rel=1e-12)
    # profiles: the weighted node means, streamline by streamline
    prof = tract_profiles(values, index)
    x = values.astype(np.float64)[np.maximum(index.node_voxel, 0)]
    for t in (0, 7, 19):
        mine = index.tract == t
        w = index.node_weight[mine][..., None]
        den = w.sum(0)
        want = np.where(den > 0, (w * x[mine]).sum(0) / np.where(den > 0, den, 1.0), np.nan)
        np.testing.assert_allclose(prof[t], want, rtol=1e-10, equal_nan=True)

    line_brain, line = _line_brain()
    far = Tracts(
        ("line", "far"),
        np.concatenate([line.points_mm, line.points_mm[:1] + 500.0]),
        np.array([0, 0, 0, 1], np.int32),
        np.concatenate([line.core_mm, line.core_mm + 500.0]),
    )
    idx2 = tract_index(line_brain, far)
    v2 = np.stack([np.asarray(line_brain.coords_mm)[:, 0]] * 2, 1).astype(np.float32)
    s2 = tract_summary(v2, line_brain, index=idx2, ood=np.zeros(line_brain.n_voxels, bool), names=NAMES)
    line_item, far_item = s2["items"]
    assert line_item["n_voxels"] > 0 and line_item["outputs"][NAMES[0]]["max"] == pytest.approx(20.0)
    assert far_item["n_voxels"] == 0 and far_item["ood_fraction"] is None
    assert far_item["outputs"][NAMES[0]] == {
        "unit": "-",
        "mean": None,
        "p95": None,
        "max": None,
        "above": [{"threshold": t, "fraction": None} for t in (0.02, 0.05, 0.1)],
    }
    assert far_item["profile"][NAMES[0]] == [None] * 23


def test_tracts_off_the_brain_are_skipped():
    brain, tracts = _line_brain()
    far = Tracts(tracts.names, tracts.points_mm + 500.0, tracts.tract, tracts.core_mm + 500.0)
    s = tract_summary(
        np.zeros((brain.n_voxels, 2), np.float32), brain, index=tract_index(brain, far), names=NAMES
    )
    assert s["overlap"] < MIN_TRACT_OVERLAP and "skipped" in s and "items" not in s


def test_corticospinal_profile_runs_brainstem_to_cortex():
    brain = default_brain(6.0)
    z = np.asarray(brain.coords_mm)[:, 2]
    values = np.stack([z - z.min(), np.zeros_like(z)], axis=1).astype(np.float32)
    s = tract_summary(values, brain, names=NAMES)
    assert len(s["items"]) == 20 and s["overlap"] > 0.5
    assert all(it["n_voxels"] > 0 for it in s["items"])
    for side in ("Left", "Right"):
        cst = next(it for it in s["items"] if it["name"] == f"{side} Corticospinal")
        prof = np.array([np.nan if p is None else p for p in cst["profile"]["peak_mt_strain"]])
        good = np.isfinite(prof)
        assert good.mean() > 0.9
        assert np.corrcoef(np.arange(100)[good], prof[good])[0, 1] > 0.95  # rises from brainstem to cortex
