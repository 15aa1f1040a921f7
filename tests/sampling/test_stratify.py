import jax.numpy as jnp
import numpy as np
import pytest

from axojax.sampling import stratify

from .conftest import pulses


def stratify_ref(profiles, cube_ids):
    cubes = np.unique(cube_ids)
    peak = np.abs(profiles).max(-1)
    pick = []
    for c in cubes:
        vox = np.flatnonzero(cube_ids == c)
        pick.append(vox[np.argmax(peak[vox])])  # argmax: first (lowest index) maximum
    return profiles[pick], np.array(pick)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_matches_numpy_reference(rng, dtype):
    x = pulses(rng, 200, dtype=np.dtype(dtype))
    cube_ids = rng.integers(0, 17, 200) * 3 + 100  # sparse, unsorted ids
    x[5] = x[4]  # a tie inside one cube -> lowest index
    cube_ids[5] = cube_ids[4]
    cand, vox = stratify(jnp.asarray(x), cube_ids)
    ref_c, ref_v = stratify_ref(x, cube_ids)
    np.testing.assert_array_equal(vox, ref_v)
    np.testing.assert_array_equal(cand, ref_c)
    assert cand.dtype == dtype


def test_one_candidate_per_cube_per_impact(rng):
    x = np.stack([pulses(rng, 60) for _ in range(3)])  # (impact, vox, T)
    cube_ids = np.repeat(np.arange(12), 5)
    cand, vox = stratify(x, cube_ids)
    assert cand.shape == (3, 12, x.shape[-1]) and vox.shape == (3, 12)
    for i in range(3):
        np.testing.assert_array_equal(cube_ids[np.asarray(vox[i])], np.arange(12))
        np.testing.assert_array_equal(cand[i], x[i, np.asarray(vox[i])])
        peak = np.abs(x[i]).max(-1)
        assert np.all(peak[np.asarray(vox[i])] == peak.reshape(12, 5).max(1))


def test_bad_input(rng):
    x = pulses(rng, 10)
    with pytest.raises(ValueError, match="one per voxel"):
        stratify(x, np.arange(9))
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        stratify(bad, np.arange(10))
    with pytest.raises(ValueError, match="integer"):
        stratify(x, np.linspace(0, 1, 10))
