import jax.numpy as jnp
import numpy as np
import pytest

from axojax.brain import (
    DEFAULT_THRESHOLD_FRACTION,
    brain_from_mask,
    cube_ids,
    default_brain,
    mni_wm_template_path,
)

STUDY_VOXELS = 92_500


def test_default_brain_voxel_count_and_affine(mni_brain):
    assert abs(mni_brain.n_voxels - STUDY_VOXELS) <= 0.03 * STUDY_VOXELS
    assert mni_brain.n_voxels == 92_439  # block average, threshold 0.38 of the maximum
    assert DEFAULT_THRESHOLD_FRACTION == 0.38
    affine = np.asarray(mni_brain.affine)
    np.testing.assert_allclose(np.linalg.norm(affine[:3, :3], axis=0), 2.0)
    assert mni_brain.voxel_size_mm == (2.0, 2.0, 2.0)
    assert mni_brain.mask.shape == (99, 117, 95)
    # voxel centres are 2 mm block centres of the 1 mm MNI grid (origin -98, -134, -72)
    np.testing.assert_allclose(affine[:3, 3], [-97.5, -133.5, -71.5])
    coords = np.asarray(mni_brain.coords_mm)
    ijk = np.asarray(mni_brain.voxel_ijk)
    np.testing.assert_allclose(coords, ijk * 2.0 + affine[:3, 3])
    assert int(np.asarray(mni_brain.mask).sum()) == mni_brain.n_voxels
    assert mni_brain.fiber_dir.shape == (mni_brain.n_voxels, 1, 3)
    assert mni_brain.fiber_dir.dtype == jnp.float32
    np.testing.assert_allclose(np.linalg.norm(np.asarray(mni_brain.fiber_dir), axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(mni_brain.fiber_weight), 1.0)
    # MNI white matter: roughly symmetric about x = 0, spans the cerebrum
    assert abs(coords[:, 0].mean()) < 2.0
    assert coords[:, 2].min() < -30 and coords[:, 2].max() > 50


def test_default_brain_cubes(mni_brain):
    n = mni_brain.n_cubes
    assert n == 6_370  # non-empty 6 mm cubes; the study kept 4,979
    counts = np.bincount(np.asarray(mni_brain.cube_id))
    assert counts.min() >= 1 and counts.max() <= 27  # a 6 mm cube holds 3 x 3 x 3 voxel centres
    assert int((counts >= 5).sum()) == 4_987  # cubes with >= 5 voxels: close to the study's 4,979


def test_threshold_is_a_parameter(mni_brain):
    looser = default_brain(2.0, threshold_fraction=0.37)
    assert looser.n_voxels == 93_692 > mni_brain.n_voxels
    with pytest.raises(ValueError, match="threshold_fraction"):
        default_brain(2.0, threshold_fraction=1.5)
    with pytest.raises(ValueError, match="resolution_mm"):
        default_brain(2.5)
    assert mni_wm_template_path().name.endswith("wm_tal_nlin_sym_09a_converted.nii.gz")


def tiny_mask():
    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[1:3, :, 1:4] = True
    return mask


def test_brain_from_mask_tiny():
    brain = brain_from_mask(tiny_mask(), np.eye(4), fiber_dir=np.tile([0.0, 0.0, 2.0], (24, 1)))
    assert brain.n_voxels == 24 and brain.n_fibers == 1
    np.testing.assert_allclose(np.asarray(brain.coords_mm), np.argwhere(tiny_mask()))
    np.testing.assert_allclose(np.asarray(brain.fiber_dir)[:, 0], np.tile([0.0, 0.0, 1.0], (24, 1)))
    assert brain.voxel_size_mm == (1.0, 1.0, 1.0)
    # 1 mm voxels, 2 mm cubes: x in {1, 2} spans cubes 0 and 1, y 0..3 two, z 1..3 two
    ids = cube_ids(brain.coords_mm, 2.0)
    assert len(np.unique(ids)) == 8
    vol = brain.to_volume(np.arange(24.0), fill=-1.0)
    assert vol.shape == (4, 4, 4) and vol[0, 0, 0] == -1.0
    np.testing.assert_allclose(vol[tiny_mask()], np.arange(24.0))


def test_with_fibers_weights_and_errors():
    brain = brain_from_mask(tiny_mask(), np.eye(4))
    dirs = np.zeros((24, 2, 3))
    dirs[:, 0, 0] = 1.0
    dirs[:, 1, 1] = 3.0
    weights = np.ones((24, 2))
    weights[0] = 0.0
    weights[1] = [3.0, 1.0]
    new = brain.with_fibers(dirs, weights)
    w = np.asarray(new.fiber_weight)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_allclose(w[0], [1.0, 0.0])  # empty voxel: population 0
    np.testing.assert_allclose(w[1], [0.75, 0.25])
    np.testing.assert_allclose(np.asarray(new.fiber_dir)[:, 1], np.tile([0.0, 1.0, 0.0], (24, 1)))
    bad = dirs.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        brain.with_fibers(bad)
    bad[3, 0] = 0.0
    with pytest.raises(ValueError, match="zero length"):
        brain.with_fibers(bad)
    with pytest.raises(ValueError, match="non-negative"):
        brain.with_fibers(dirs, -weights)
    with pytest.raises(ValueError, match="affine"):
        brain_from_mask(tiny_mask(), np.zeros((4, 4)))
