import jax.numpy as jnp
import numpy as np
import pytest

from axojax.sampling import _adaptive, select_adaptive, similarity_matrix, threshold_for_n

from .conftest import BLOCK, impacts
from .reference import greedy_ref


@pytest.mark.parametrize("measure", ["nrmse", "xcorr"])
@pytest.mark.parametrize("threshold", [0.7, 0.9])
def test_equals_numpy_sequential_greedy(rng, measure, threshold):
    cands = impacts(rng)
    sel = select_adaptive(cands, threshold, measure, block=BLOCK)  # blocks straddle impacts
    got = list(zip(np.asarray(sel.impact).tolist(), np.asarray(sel.voxel).tolist(), strict=True))
    assert got == greedy_ref(cands, threshold, measure)
    assert sel.n_examined == sel.n_candidates == 200
    if (measure, threshold) == ("nrmse", 0.9):  # the block size is a tuning knob only
        again = select_adaptive(cands, threshold, measure, block=64)
        np.testing.assert_array_equal(again.voxel, sel.voxel)


@pytest.mark.parametrize(
    "measure, dtype", [("nrmse", jnp.float32), ("nrmse", jnp.float64), ("xcorr", jnp.float64)]
)
def test_defining_property(rng, measure, dtype):
    cands = impacts(rng, dtype=np.dtype(dtype))
    thr = 0.85
    sel = select_adaptive(cands, thr, measure, block=BLOCK)
    assert sel.profiles.dtype == dtype and sel.n_kept > 1
    kept = np.asarray(sel.profiles)
    s = np.array(similarity_matrix(kept, kept, measure))
    np.fill_diagonal(s, -np.inf)
    assert s.max() < thr  # no kept pair at or above the threshold
    flat = np.concatenate(cands)
    kept_rows = set((np.asarray(sel.impact) * 50 + np.asarray(sel.voxel)).tolist())
    rejected = np.array([r for r in range(flat.shape[0]) if r not in kept_rows])
    # every rejected candidate is too similar to some kept profile kept before it
    s_rej = np.asarray(similarity_matrix(flat[rejected], kept, measure))
    assert np.all(s_rej.max(axis=1) >= thr - (1e-3 if dtype == jnp.float32 else 1e-12))
    np.testing.assert_array_equal(kept, flat[sorted(kept_rows)])


def test_origin_ids_and_stacked_input(rng):
    x = np.stack(impacts(rng))
    vox = np.arange(200).reshape(4, 50) + 1000
    sel = select_adaptive(x, 0.7, voxels_by_impact=vox, block=BLOCK)
    rows = np.asarray(sel.voxel) - 1000 - 50 * np.asarray(sel.impact)
    np.testing.assert_array_equal(sel.profiles, x[np.asarray(sel.impact), rows])


def test_more_kept_than_initial_capacity(rng, monkeypatch):
    monkeypatch.setattr(_adaptive, "_INITIAL_CAPACITY", 50)
    cands = impacts(rng)
    sel = select_adaptive(cands, 0.9, "nrmse", block=BLOCK)  # capacity 50, then 200
    ref = greedy_ref(cands, 0.9, "nrmse")
    assert sel.n_kept == len(ref) > 50


@pytest.mark.parametrize("measure", ["nrmse", "xcorr"])
def test_threshold_for_n(rng, measure):
    cands = impacts(rng)
    sel = threshold_for_n(cands, 40, measure, rtol=0.05, block=BLOCK)
    assert 38 <= sel.n_kept <= 42
    again = select_adaptive(cands, sel.threshold, measure, block=BLOCK)
    np.testing.assert_array_equal(again.voxel, sel.voxel)
    exact = threshold_for_n(cands, 40, measure, rtol=0.05, exact=True, block=BLOCK)
    assert exact.n_kept == 40
    full = select_adaptive(cands, exact.threshold, measure, block=BLOCK)
    np.testing.assert_array_equal(exact.voxel, full.voxel[:40])  # greedy stopped at 40
    assert exact.n_examined <= full.n_examined


def test_bad_input(rng):
    cands = impacts(rng, 2, 10)
    with pytest.raises(ValueError, match="n must be in 1..20"):
        threshold_for_n(cands, 21)
    with pytest.raises(ValueError, match="n must be in"):
        threshold_for_n(cands, 0)
    bad = [cands[0].copy(), cands[1]]
    bad[0][2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        select_adaptive(bad, 0.9)
    with pytest.raises(ValueError, match=r"expected \(n, 40\)"):
        select_adaptive([cands[0], cands[1][:, :30]], 0.9)
    with pytest.raises(ValueError, match="empty"):
        select_adaptive([], 0.9)
    with pytest.raises(ValueError, match="no candidate profiles"):
        select_adaptive([np.zeros((0, 40))], 0.9)
    with pytest.raises(ValueError, match="one id per candidate"):
        select_adaptive(cands, 0.9, voxels_by_impact=[np.arange(10), np.arange(9)])
    with pytest.raises(ValueError, match="finite"):
        select_adaptive(cands, float("nan"))
    with pytest.raises(ValueError, match="measure must be one of"):
        select_adaptive(cands, 0.9, "cosine")
    dup = [np.tile(cands[0][:1], (10, 1))]  # ten identical candidates: count is 1 or 10
    with pytest.raises(ValueError, match="jumps over the window"):
        threshold_for_n(dup, 5, max_iter=20)
