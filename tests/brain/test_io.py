import importlib.util
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from axojax.brain import (
    brain_from_mask,
    fit_dwi_fibers,
    read_streamline_fibers,
    read_tensor_nifti,
    read_v1_nifti,
)

NIBABEL_DATA = Path(nib.__file__).parent / "tests" / "data"


def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _abs_cos(a, b):
    return np.abs(np.sum(_unit(a) * _unit(b), axis=-1))


@pytest.fixture
def tiny_brain():
    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[1:3, 1:3, :] = True
    return brain_from_mask(mask, np.eye(4))


def _known_dirs(shape, seed=0):
    return _unit(np.random.default_rng(seed).normal(size=shape + (3,)))


def _save(tmp_path, name, data, affine=np.eye(4)):
    path = tmp_path / name
    nib.save(nib.Nifti1Image(np.asarray(data, dtype=np.float32), affine), path)
    return path


def test_v1_round_trip_world_and_fsl(tmp_path, tiny_brain):
    world = _known_dirs((4, 4, 4))
    flips = np.where(np.random.default_rng(1).random((4, 4, 4, 1)) < 0.5, -1.0, 1.0)
    path = _save(tmp_path, "v1.nii.gz", world * flips)  # signs do not matter
    got = np.asarray(read_v1_nifti(path, tiny_brain, convention="world"))
    ijk = np.asarray(tiny_brain.voxel_ijk)
    expect = world[ijk[:, 0], ijk[:, 1], ijk[:, 2]]
    np.testing.assert_allclose(_abs_cos(got, expect), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), 1.0, atol=1e-6)
    # FSL dtifit convention: x flipped for a neurological (det > 0) affine such as the identity
    fsl = world * np.array([-1.0, 1.0, 1.0])
    got_fsl = np.asarray(read_v1_nifti(_save(tmp_path, "v1_fsl.nii.gz", fsl), tiny_brain))
    np.testing.assert_allclose(_abs_cos(got_fsl, expect), 1.0, atol=1e-6)


def test_v1_voxel_frame_with_scaled_affine(tmp_path):
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[0, 0] = -2.0  # radiological x axis
    brain = brain_from_mask(np.ones((4, 4, 4), dtype=bool), affine)
    vox = np.zeros((4, 4, 4, 3))
    vox[..., 0] = 1.0  # along voxel axis i -> world -x
    got = np.asarray(read_v1_nifti(_save(tmp_path, "v1.nii", vox, affine), brain, convention="voxel"))
    np.testing.assert_allclose(got, np.tile([-1.0, 0.0, 0.0], (64, 1)), atol=1e-6)


def test_tensor_round_trip(tmp_path, tiny_brain):
    dirs = _known_dirs((4, 4, 4), seed=3)
    tensor = 0.3 * np.eye(3) + 1.2 * np.einsum("...i,...j->...ij", dirs, dirs)  # mm^2/s x 1e-3
    iu = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]  # FSL: Dxx Dxy Dxz Dyy Dyz Dzz
    six = np.stack([tensor[..., i, j] for i, j in iu], axis=-1)
    path = _save(tmp_path, "tensor.nii.gz", six)
    got = np.asarray(read_tensor_nifti(path, tiny_brain, convention="world"))
    ijk = np.asarray(tiny_brain.voxel_ijk)
    np.testing.assert_allclose(_abs_cos(got, dirs[ijk[:, 0], ijk[:, 1], ijk[:, 2]]), 1.0, atol=1e-5)
    # a wrong component order does not reproduce the directions
    wrong = _save(tmp_path, "wrong.nii.gz", six[..., [0, 3, 5, 1, 2, 4]])
    bad = np.asarray(read_tensor_nifti(wrong, tiny_brain, convention="world"))
    assert np.median(_abs_cos(bad, dirs[ijk[:, 0], ijk[:, 1], ijk[:, 2]])) < 0.99


def test_reader_errors_name_file_and_field(tmp_path, tiny_brain):
    good = _known_dirs((4, 4, 4))
    with pytest.raises(ValueError, match=r"v1_small\.nii.*field V1 needs shape"):
        read_v1_nifti(_save(tmp_path, "v1_small.nii", good[:3]), tiny_brain)
    shifted = np.eye(4)
    shifted[0, 3] = 5.0
    with pytest.raises(ValueError, match=r"v1_shift\.nii.*V1 affine differs"):
        read_v1_nifti(_save(tmp_path, "v1_shift.nii", good, shifted), tiny_brain)
    nan = good.copy()
    nan[1, 1, 2] = np.nan
    with pytest.raises(ValueError, match=r"v1_nan\.nii.*V1 has NaN/inf at 1 white-matter voxels"):
        read_v1_nifti(_save(tmp_path, "v1_nan.nii", nan), tiny_brain)
    zero = good.copy()
    zero[2, 2, 0] = 0.0
    with pytest.raises(ValueError, match=r"v1_zero\.nii.*V1 is zero-length"):
        read_v1_nifti(_save(tmp_path, "v1_zero.nii", zero), tiny_brain)
    zero[0, 0, 0] = 0.0  # outside the mask: ignored
    zero[2, 2, 0] = 1.0
    read_v1_nifti(_save(tmp_path, "v1_ok.nii", zero), tiny_brain)
    with pytest.raises(ValueError, match=r"tensor\.nii.*field tensor needs shape"):
        read_tensor_nifti(_save(tmp_path, "tensor.nii", good), tiny_brain)


def _crossing_tractogram(tmp_path, suffix):
    """Lines along x at (y, z) = (1, 1) and lines along y at (x, z) = (2, 1); the x lines twice."""
    t = np.linspace(-0.4, 3.4, 20)
    along_x = [np.stack([t, np.full_like(t, 1.0), np.full_like(t, 1.0)], 1) for _ in range(2)]
    along_y = [np.stack([np.full_like(t, 2.0), t[::-1], np.full_like(t, 1.0)], 1)]
    tractogram = nib.streamlines.Tractogram(along_x + along_y, affine_to_rasmm=np.eye(4))
    path = tmp_path / f"crossing{suffix}"
    if suffix == ".trk":
        header = {
            nib.streamlines.Field.VOXEL_TO_RASMM: np.eye(4),
            nib.streamlines.Field.DIMENSIONS: (4, 4, 4),
            nib.streamlines.Field.VOXEL_SIZES: (1.0, 1.0, 1.0),
        }
        nib.streamlines.save(tractogram, path, header=header)
    else:
        nib.streamlines.save(tractogram, path)
    return path


@pytest.mark.parametrize("suffix", [".tck", ".trk"])
def test_streamlines_crossing_populations(tmp_path, suffix):
    brain = brain_from_mask(
        np.ones((4, 4, 4), dtype=bool), np.eye(4), fiber_dir=np.tile([0, 0, 1.0], (64, 1))
    )
    dirs, counts = read_streamline_fibers(_crossing_tractogram(tmp_path, suffix), brain, k=2)
    dirs, counts = np.asarray(dirs), np.asarray(counts)
    lookup = {tuple(ijk): v for v, ijk in enumerate(np.asarray(brain.voxel_ijk).tolist())}
    cross = lookup[(2, 1, 1)]
    assert counts[cross, 0] > counts[cross, 1] > 0  # two x lines beat one y line
    np.testing.assert_allclose(_abs_cos(dirs[cross, 0], [1, 0, 0]), 1.0, atol=1e-6)
    np.testing.assert_allclose(_abs_cos(dirs[cross, 1], [0, 1, 0]), 1.0, atol=1e-6)
    only_x = lookup[(0, 1, 1)]
    assert counts[only_x, 1] == 0
    empty = lookup[(3, 3, 3)]
    assert counts[empty].sum() == 0
    np.testing.assert_allclose(dirs[empty, 0], [0, 0, 1.0])  # the brain's own direction
    fused = brain.with_fibers(dirs, counts)
    np.testing.assert_allclose(np.asarray(fused.fiber_weight).sum(axis=1), 1.0, atol=1e-6)


def test_streamlines_nibabel_fixtures():
    # nibabel's standard.trk / .tck: 120 streamlines on a 4 x 5 x 7 grid, voxels (1, 3, 2) mm
    trk = nib.streamlines.load(NIBABEL_DATA / "standard.trk")
    affine = np.asarray(trk.header["voxel_to_rasmm"], dtype=np.float64)
    brain = brain_from_mask(np.ones(tuple(trk.header["dimensions"]), dtype=bool), affine)
    d_trk, c_trk = read_streamline_fibers(NIBABEL_DATA / "standard.trk", brain)
    d_tck, c_tck = read_streamline_fibers(NIBABEL_DATA / "standard.tck", brain)
    np.testing.assert_allclose(np.asarray(c_trk), np.asarray(c_tck))
    np.testing.assert_allclose(_abs_cos(np.asarray(d_trk), np.asarray(d_tck)), 1.0, atol=1e-5)
    assert np.asarray(c_trk).sum() > 0


def test_streamlines_outside_brain_and_nan(tmp_path):
    brain = brain_from_mask(np.ones((4, 4, 4), dtype=bool), np.eye(4))
    nan = nib.streamlines.Tractogram([np.array([[1.0, 1, 1], [np.nan, 2, 1]])], affine_to_rasmm=np.eye(4))
    nib.streamlines.save(nan, tmp_path / "nan.trk")
    with pytest.raises(ValueError, match=r"nan\.trk.*field streamlines has 1 NaN"):
        read_streamline_fibers(tmp_path / "nan.trk", brain)
    far = nib.streamlines.Tractogram([np.array([[50.0, 50, 50], [51, 50, 50]])], affine_to_rasmm=np.eye(4))
    path = tmp_path / "far.tck"
    nib.streamlines.save(far, path)
    with pytest.raises(ValueError, match=r"far\.tck.*no segment inside the brain mask"):
        read_streamline_fibers(path, brain)


HAVE_DIPY = importlib.util.find_spec("dipy") is not None


@pytest.mark.skipif(not HAVE_DIPY, reason="dipy not installed")
def test_dwi_tensor_fit_small_64d(tmp_path):
    files = Path(importlib.util.find_spec("dipy").submodule_search_locations[0]) / "data" / "files"
    img = nib.load(files / "small_64D.nii")
    brain = brain_from_mask(np.ones(img.shape[:3], dtype=bool), img.affine)
    got = np.asarray(
        fit_dwi_fibers(files / "small_64D.nii", files / "small_64D.bval", files / "small_64D.bvec", brain)
    )
    assert got.shape == (1000, 3)
    np.testing.assert_allclose(np.linalg.norm(got, axis=-1), 1.0, atol=1e-5)
    # the same fit through the tensor reader (FSL order, jnp.linalg.eigh) gives the same directions
    from dipy.core.gradients import gradient_table
    from dipy.io.gradients import read_bvals_bvecs
    from dipy.reconst.dti import TensorModel, lower_triangular

    bvals, bvecs = read_bvals_bvecs(str(files / "small_64D.bval"), str(files / "small_64D.bvec"))
    fit = TensorModel(gradient_table(bvals, bvecs=bvecs)).fit(np.asarray(img.dataobj, dtype=np.float64))
    dxx, dxy, dyy, dxz, dyz, dzz = np.moveaxis(lower_triangular(fit.quadratic_form), -1, 0)
    six = np.stack([dxx, dxy, dxz, dyy, dyz, dzz], axis=-1)
    via_tensor = np.asarray(read_tensor_nifti(_save(tmp_path, "t.nii", six, img.affine), brain))
    fa = np.asarray(fit.fa).reshape(-1)
    anisotropic = fa > 0.2  # the principal direction is well defined
    assert anisotropic.sum() > 100
    assert np.median(_abs_cos(got, via_tensor)[anisotropic]) > 0.999
    assert 0.2 < np.median(fa) < 0.4
