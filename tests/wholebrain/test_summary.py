import json

import numpy as np
import pytest

from axojax.brain import brain_from_mask
from axojax.wholebrain import DEFAULT_THRESHOLDS, RegionAtlas, coordinate_regions, summary


@pytest.fixture
def cube_brain():
    """4 x 4 x 4 grid, all 64 voxels, 2 mm (8 uL each), centred so x, y, z straddle 0."""
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = (-3.0, -3.0, -3.0)  # voxel centres -3, -1, 1, 3 mm
    return brain_from_mask(np.ones((4, 4, 4), bool), affine, np.tile([1.0, 0.0, 0.0], (64, 1)))


def known_values(n: int = 64) -> np.ndarray:
    """Column 0: 32 x 0, 16 x 0.03, 8 x 0.05 (on a threshold), 8 x 0.2; others: ramps."""
    mt = np.r_[np.zeros(32), np.full(16, 0.03), np.full(8, 0.05), np.full(8, 0.2)]
    ramp = np.arange(n) / n
    return np.stack([mt, 0.2 * ramp, 100.0 * ramp, 20.0 * ramp], axis=1).astype(np.float32)


def test_threshold_fractions_volumes_percentiles(cube_brain):
    v = known_values()
    ood = np.zeros(64, bool)
    ood[:16] = True
    s = summary(v, cube_brain, ood=ood)
    json.dumps(s, allow_nan=False)
    assert s["n_voxels"] == 64 and s["voxel_volume_ml"] == pytest.approx(0.008)
    assert s["white_matter_volume_ml"] == pytest.approx(0.512)
    assert s["ood_fraction"] == 0.25
    mt = s["outputs"]["peak_mt_strain"]
    assert mt["unit"] == "-" and [a["threshold"] for a in mt["above"]] == [0.02, 0.05, 0.10]
    # >= threshold: 0.05 itself counts
    assert [a["fraction"] for a in mt["above"]] == [0.5, 0.25, 0.125]
    assert [a["volume_ml"] for a in mt["above"]] == pytest.approx([0.256, 0.128, 0.064])
    pct = mt["percentiles"]
    assert pct["p50"] == pytest.approx(0.015) and pct["max"] == pytest.approx(0.2)
    assert pct["p95"] == pytest.approx(np.percentile(v[:, 0].astype(np.float64), 95))
    tau = s["outputs"]["tau_failure_pct"]
    assert tau["unit"] == "%"
    # ramp 100 k / 64 >= 10, 25, 50 for k >= 6.4, 16, 32
    assert [a["fraction"] for a in tau["above"]] == [57 / 64, 48 / 64, 32 / 64]
    assert tau["mean"] == pytest.approx(100.0 * 63 / 128)


def test_threshold_override_and_errors(cube_brain):
    v = known_values()
    s = summary(
        v, cube_brain, thresholds={"peak_mt_strain": (0.1,), "nf_failure_pct": (), "tau_failure_pct": (50,)}
    )
    assert [a["fraction"] for a in s["outputs"]["peak_mt_strain"]["above"]] == [0.125]
    assert s["outputs"]["nf_failure_pct"]["above"] == []
    assert [a["fraction"] for a in s["outputs"]["tau_failure_pct"]["above"]] == [0.5]
    assert len(s["outputs"]["peak_axolemma_strain"]["above"]) == len(
        DEFAULT_THRESHOLDS["peak_axolemma_strain"]
    )
    assert list(summary(v, cube_brain, percentiles=(10, 90))["outputs"]["nf_failure_pct"]["percentiles"]) == [
        "p10",
        "p90",
        "max",
    ]
    assert s["ood_fraction"] is None and s["regions"]["items"][0]["ood_fraction"] is None
    with pytest.raises(ValueError, match="unknown outputs"):
        summary(v, cube_brain, thresholds={"mt": (0.1,)})
    with pytest.raises(ValueError, match="shape"):
        summary(v[:10], cube_brain)
    with pytest.raises(ValueError, match="NaN"):
        summary(np.where(v == 0.2, np.nan, v), cube_brain)
    with pytest.raises((ValueError, TypeError)):  # TypeError: the jaxtyping check at test time
        summary(v, cube_brain, ood=np.zeros(3, bool))


def test_coordinate_regions(cube_brain):
    atlas = coordinate_regions(cube_brain, y_edges_mm=(0.0,), z_edges_mm=())
    coords = np.asarray(cube_brain.coords_mm)
    expect = 1 + 2 * (coords[:, 0] >= 0) + (coords[:, 1] >= 0)
    np.testing.assert_array_equal(atlas.labels, expect)
    assert atlas.names == {1: "left y<0mm", 2: "left y>=0mm", 3: "right y<0mm", 4: "right y>=0mm"}
    default = coordinate_regions(cube_brain)
    assert len(default.names) == 12 and default.source == "coordinate bands"
    assert default.names[1] == "left y<-40mm z<10mm" and default.names[12] == "right y>=0mm z>=10mm"
    with pytest.raises(ValueError, match="increasing"):
        coordinate_regions(cube_brain, y_edges_mm=(0.0, -10.0))


def test_region_means(cube_brain):
    v = known_values()
    ood = np.arange(64) % 4 == 0
    s = summary(v, cube_brain, ood=ood)  # default: coordinate bands
    items = {r["name"]: r for r in s["regions"]["items"]}
    assert s["regions"]["source"] == "coordinate bands"
    # every voxel has -40 <= y < 0 or y >= 0 and z < 10: 4 non-empty regions of 16 voxels
    filled = {k: r for k, r in items.items() if r["n_voxels"]}
    assert sorted(filled) == sorted(
        f"{h} {y} z<10mm" for h in ("left", "right") for y in ("-40<=y<0mm", "y>=0mm")
    )
    coords = np.asarray(cube_brain.coords_mm)
    sel = (coords[:, 0] >= 0) & (coords[:, 1] < 0)
    r = filled["right -40<=y<0mm z<10mm"]
    assert r["n_voxels"] == 16 and r["volume_ml"] == pytest.approx(16 * 0.008)
    assert r["mean"]["tau_failure_pct"] == pytest.approx(float(v[sel, 2].astype(np.float64).mean()))
    assert r["ood_fraction"] == pytest.approx(ood[sel].mean())
    assert (
        items["left y<-40mm z<10mm"]["n_voxels"] == 0
        and items["left y<-40mm z<10mm"]["mean"]["peak_mt_strain"] is None
    )
    # a custom atlas: label 0 is left out, unnamed labels get a generic name
    labels = np.zeros(64, np.int32)
    labels[:8], labels[8:16] = 3, 7
    atlas = RegionAtlas(labels=labels, names={3: "front", 5: "empty"}, source="test")
    got = {r["label"]: r for r in summary(v, cube_brain, regions=atlas)["regions"]["items"]}
    assert sorted(got) == [3, 5, 7] and got[7]["name"] == "label 7" and got[5]["n_voxels"] == 0
    assert got[3]["mean"]["nf_failure_pct"] == pytest.approx(float(v[:8, 3].astype(np.float64).mean()))
    with pytest.raises(ValueError, match="labels >= 1"):
        RegionAtlas(labels=labels, names={0: "background"}, source="test")
