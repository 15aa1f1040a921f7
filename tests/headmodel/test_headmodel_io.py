import nibabel as nib
import numpy as np
import pytest

from axojax.headmodel.io import load_strain, tensor_to_voigt, voigt_to_tensor


def _voigt(rng, shape):
    return 0.05 * rng.standard_normal(shape + (6,))


def test_voigt_round_trip():
    v = _voigt(np.random.default_rng(0), (4, 5))
    e = voigt_to_tensor(v)
    assert e.shape == (4, 5, 3, 3)
    np.testing.assert_array_equal(e, np.swapaxes(e, -1, -2))
    np.testing.assert_array_equal(e[..., 1, 2], v[..., 4])  # yz
    np.testing.assert_array_equal(e[..., 0, 2], v[..., 5])  # xz
    np.testing.assert_array_equal(tensor_to_voigt(e), v)


def test_nifti_round_trip(tmp_path):
    data = _voigt(np.random.default_rng(1), (3, 4, 2, 5)).astype(np.float32)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-10.0, -20.0, 0.0]
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "msec")
    img.header["pixdim"][4] = 1.0
    path = tmp_path / "strain.nii.gz"
    nib.save(img, path)
    out = load_strain(path)
    assert out.grid_shape == (3, 4, 2)
    assert out.strain.shape == (24, 5, 3, 3)
    np.testing.assert_allclose(out.t_s, np.arange(5) * 1e-3)
    np.testing.assert_allclose(out.affine, affine)
    # voxel (i, j, k) = (2, 1, 1) is row 2*8 + 1*2 + 1 = 19 in C order
    np.testing.assert_allclose(out.coords_mm[19], [-6.0, -18.0, 2.0])
    np.testing.assert_allclose(tensor_to_voigt(out.strain[19]), data[2, 1, 1], rtol=1e-7)
    # explicit times override a missing unit; mismatched length is an error
    img.header.set_xyzt_units("mm", "unknown")
    nib.save(img, path)
    with pytest.raises(ValueError, match="pass t_s"):
        load_strain(path)
    out = load_strain(path, t_s=np.linspace(0.0, 0.004, 5))
    assert out.t_s[-1] == pytest.approx(0.004)
    with pytest.raises(ValueError, match="'t_s' has 4 samples, strain has 5"):
        load_strain(path, t_s=np.linspace(0.0, 0.004, 4))


def test_nifti_wrong_last_dim(tmp_path):
    img = nib.Nifti1Image(np.zeros((2, 2, 2, 3, 5), np.float32), np.eye(4))
    path = tmp_path / "bad.nii"
    nib.save(img, path)
    with pytest.raises(ValueError, match=r"bad\.nii.*\(x, y, z, t, 6\)"):
        load_strain(path)


@pytest.mark.parametrize("tensor", [False, True])
def test_npz_round_trip(tmp_path, tensor):
    rng = np.random.default_rng(2)
    coords = rng.uniform(-60, 60, (7, 3))
    v = _voigt(rng, (7, 9))
    strain = voigt_to_tensor(v) if tensor else v
    path = tmp_path / "s.npz"
    np.savez(path, coords_mm=coords, t_s=np.arange(9) * 1e-3, strain=strain)
    out = load_strain(path)
    assert out.grid_shape is None
    np.testing.assert_allclose(out.coords_mm, coords)
    np.testing.assert_allclose(out.strain, voigt_to_tensor(v))
    np.testing.assert_allclose(out.affine, np.eye(4))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"strain": np.zeros((7, 9, 5))}, "'strain' must end in 6"),
        ({"strain": np.full((7, 9, 6), np.nan)}, "'strain' contains NaN"),
        ({"strain": np.full((7, 9, 6), 5.0)}, "percent"),
        ({"t_s": np.arange(8) * 1e-3}, "'t_s' has 8 samples, strain has 9"),
        ({"t_s": np.zeros(9)}, "increasing"),
        ({"coords_mm": np.zeros((7, 2))}, "'coords_mm'"),
        ({"strain": np.zeros((6, 9, 6))}, "'strain' must have shape"),
        ({"strain": np.arange(7 * 9 * 9.0).reshape(7, 9, 3, 3) * 1e-3}, "not symmetric"),
    ],
)
def test_npz_bad_input(tmp_path, change, match):
    fields = {
        "coords_mm": np.zeros((7, 3)),
        "t_s": np.arange(9) * 1e-3,
        "strain": np.zeros((7, 9, 6)),
    }
    fields |= change
    path = tmp_path / "bad.npz"
    np.savez(path, **fields)
    with pytest.raises(ValueError, match=match):
        load_strain(path)


def test_missing_field_and_suffix(tmp_path):
    path = tmp_path / "s.npz"
    np.savez(path, coords_mm=np.zeros((2, 3)), strain=np.zeros((2, 3, 6)))
    with pytest.raises(ValueError, match=r"s\.npz: missing array 't_s'"):
        load_strain(path)
    (tmp_path / "s.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="unknown suffix"):
        load_strain(tmp_path / "s.h5")
