import numpy as np
import pytest

from axojax.fiberstrain import ProfileDataset
from axojax.sampling import select_adaptive, select_from_dataset, stratify, worst_case_set

from .conftest import pulses

T_S = np.linspace(0.0, 0.039, 40)  # 1 ms


@pytest.fixture
def store(tmp_path, rng):
    """A tiny store: 4 impacts x 48 voxels in 12 cubes (unsorted ids) x 40 samples, 2 chunks."""
    cube_id = np.repeat(np.arange(12), 4)[rng.permutation(48)]
    ds = ProfileDataset.create(
        tmp_path / "profiles",
        t_s=T_S,
        coords_mm=rng.normal(size=(48, 3)) * 30,
        cube_id=cube_id,
        impact_names=["a", "b", "c", "held"],
        chunk_voxels=32,
    )
    data = np.stack([pulses(rng, 48, dtype=np.float32) for _ in range(4)])
    for i in range(4):
        for c in range(ds.n_chunks):
            ds.write_chunk(i, c, data[i, ds.chunk_slice(c)])
    return ProfileDataset.open(tmp_path / "profiles"), data


def test_round_trip_matches_array_pipeline(store):
    ds, data = store
    res = select_from_dataset(ds, ["c", "a", "b"], "held", threshold=0.8, n_worst=5)
    order = [2, 0, 1]
    cands, vox = stratify(data[order], np.asarray(ds.cube_id))
    sel = select_adaptive(list(cands), 0.8, voxels_by_impact=list(vox))
    np.testing.assert_array_equal(res.selection.voxel, sel.voxel)
    np.testing.assert_array_equal(res.selection.impact, sel.impact)
    # origin ids point back into the store
    for i, v, p in zip(res.selection.impact, res.selection.voxel, res.selection.profiles, strict=True):
        np.testing.assert_array_equal(p, data[order[int(i)], int(v)])
    hc, hv = stratify(data[3], np.asarray(ds.cube_id))
    wc = worst_case_set(hc, sel, 5, voxels=hv)
    np.testing.assert_array_equal(res.worst_case.voxel, wc.voxel)
    assert res.n_candidates_per_impact == 12 and res.coverage.n_pool == 36
    assert res.train_impacts == ("c", "a", "b") and res.held_out == "held"
    np.testing.assert_array_equal(res.held_out_voxels, hv)


def test_excluded_voxels_are_never_sampled(store):
    """Voxels the store excludes (an FE element inverted) are neither training candidates nor in the
    worst-case set; a cube whose voxels are all excluded has no candidate, the others pick among the rest."""
    ds, data = store
    cube = np.asarray(ds.cube_id)
    excluded = np.zeros((4, 48), bool)
    for i in range(4):  # each impact's largest-peak voxel of every cube, and all of cube 5
        cands, vox = stratify(data[i], cube)
        excluded[i, np.asarray(vox)] = True
        excluded[i, cube == 5] = True
    for i, name in enumerate(ds.impact_names):
        for c in range(ds.n_chunks):
            ds.write_excluded(name, c, excluded[i, ds.chunk_slice(c)])
    res = select_from_dataset(ds, ["a", "b", "c"], "held", threshold=0.99, n_worst=5)
    impact = np.asarray(res.selection.impact)
    voxel = np.asarray(res.selection.voxel)
    assert not excluded[impact, voxel].any()
    assert not excluded[3, np.asarray(res.worst_case.voxel)].any()
    assert not excluded[3, np.asarray(res.held_out_voxels)].any()
    assert res.coverage.n_pool == 3 * 11 and np.asarray(res.held_out_voxels).size == 11
    keep = ~excluded[0]
    peak = np.abs(data[0]).max(axis=-1)
    for v in voxel[impact == 0]:  # the cube's largest peak among its voxels not excluded
        assert peak[v] == peak[keep & (cube == cube[v])].max()


def test_threshold_search_from_store(store):
    ds, _ = store
    res = select_from_dataset(ds, ["a", "b", "c"], "held", n=10, exact=True, n_worst=3)
    assert res.selection.n_kept == 10 and res.worst_case.profiles.shape == (3, 40)


def test_bad_names(store):
    ds, _ = store
    with pytest.raises(ValueError, match="not in the store"):
        select_from_dataset(ds, ["a", "zz"], "held")
    with pytest.raises(ValueError, match="also a training impact"):
        select_from_dataset(ds, ["a", "held"], "held")
    with pytest.raises(ValueError, match="n must be in 1..36"):
        select_from_dataset(ds, ["a", "b", "c"], "held", n=37)


def test_severity_tail_pass(store):
    """The tail pass adds the severe candidates the first pass left, keeps the first pass intact
    and stays a valid adaptive selection inside the tail."""
    ds, data = store
    names = ["a", "b", "c"]
    base = select_from_dataset(ds, names, "held", n=8, exact=True, n_worst=3)
    res = select_from_dataset(
        ds, names, "held", n=10, exact=True, n_worst=3, tail_fraction=0.2, tail_quantile=0.75
    )
    assert res.n_tail == 2 and res.selection.n_kept == 10
    # the first pass is the plain selection of n (1 - tail_fraction) = 8
    np.testing.assert_array_equal(res.selection.voxel[:8], base.selection.voxel)
    np.testing.assert_array_equal(res.selection.impact[:8], base.selection.impact)
    cands, vox = stratify(data[:3], np.asarray(ds.cube_id))
    peaks = np.abs(np.asarray(cands)).max(-1)
    cut = np.quantile(peaks, 0.75)
    assert res.tail_peak_strain == pytest.approx(cut)
    kept = {(int(i), int(v)) for i, v in zip(base.selection.impact, base.selection.voxel, strict=True)}
    for i, v, p in zip(
        res.selection.impact[8:], res.selection.voxel[8:], res.selection.profiles[8:], strict=True
    ):
        assert (int(i), int(v)) not in kept  # new rows only
        assert np.abs(np.asarray(p)).max() >= cut  # all from the tail
        np.testing.assert_array_equal(p, data[int(i), int(v)])
    # the worst-case set is measured against the merged selection
    hc, hv = stratify(data[3], np.asarray(ds.cube_id))
    np.testing.assert_array_equal(res.worst_case.voxel, worst_case_set(hc, res.selection, 3, voxels=hv).voxel)


def test_severity_tail_takes_all_when_few(store):
    ds, _ = store
    res = select_from_dataset(
        ds, ["a", "b", "c"], "held", n=20, exact=True, n_worst=3, tail_fraction=0.5, tail_quantile=0.95
    )
    # 36 candidates, the top 5 % is 2 of them; at most 2 can be added
    assert 0 < res.n_tail <= 2 and res.selection.n_kept == 10 + res.n_tail


def test_severity_tail_bad_arguments(store):
    ds, _ = store
    with pytest.raises(ValueError, match="tail_fraction must be in"):
        select_from_dataset(ds, ["a", "b"], "held", tail_fraction=1.0)
    with pytest.raises(ValueError, match="tail_quantile must be in"):
        select_from_dataset(ds, ["a", "b"], "held", n=5, tail_fraction=0.1, tail_quantile=1.0)
    with pytest.raises(ValueError, match="needs the threshold search"):
        select_from_dataset(ds, ["a", "b"], "held", threshold=0.8, tail_fraction=0.1)
