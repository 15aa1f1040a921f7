import importlib.util
import itertools
import zipfile
from pathlib import Path

import jax
import jax.numpy as jnp
import nibabel as nib
import numpy as np
import pytest

from axojax.brain import principal_eigenvector, synthetic_fiber_field, tensor6_to_matrix


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_synthetic_field_regions(dtype):
    points = jnp.asarray(
        [
            [0.0, -10.0, 22.0],  # corpus callosum body, mid-sagittal above the ventricles
            [24.0, -20.0, 10.0],  # posterior limb of the internal capsule (right)
            [-24.0, -20.0, 35.0],  # corona radiata (left)
            [0.0, -25.0, -35.0],  # brainstem
            [-42.0, -30.0, 25.0],  # superior longitudinal / arcuate (left, lateral)
            [40.0, -60.0, 0.0],  # inferior longitudinal (right, posterior)
        ],
        dtype=dtype,
    )
    n = jax.jit(synthetic_fiber_field)(points)
    assert n.dtype == dtype
    np.testing.assert_allclose(np.linalg.norm(np.asarray(n), axis=-1), 1.0, rtol=1e-5)
    dominant = np.argmax(np.abs(np.asarray(n)), axis=-1)
    np.testing.assert_array_equal(dominant, [0, 2, 2, 2, 1, 1])
    assert np.abs(np.asarray(n))[0, 0] > 0.95


def test_synthetic_field_is_smooth():
    x = jnp.linspace(-60.0, 60.0, 241)
    line = jnp.stack([x, jnp.full_like(x, -20.0), jnp.full_like(x, 20.0)], axis=-1)
    n = np.asarray(jax.jit(synthetic_fiber_field)(line))
    step_cos = np.abs(np.sum(n[1:] * n[:-1], axis=-1))
    assert step_cos.min() > 0.97  # 0.5 mm steps turn by < 14 degrees


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_principal_eigenvector(dtype):
    d = np.random.default_rng(0).normal(size=(50, 3))
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    tensor = (0.2 * np.eye(3) + np.einsum("vi,vj->vij", d, d)).astype(dtype)
    six = tensor.reshape(50, 9)[:, [0, 1, 2, 4, 5, 8]]  # xx, xy, xz, yy, yz, zz
    matrix, v = jax.jit(lambda t: (tensor6_to_matrix(t), principal_eigenvector(t)))(jnp.asarray(six))
    np.testing.assert_allclose(np.asarray(matrix), tensor, rtol=1e-6)
    assert v.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(np.abs(np.sum(np.asarray(v) * d, -1)), 1.0, atol=tol)


# --- check against real tracts: dipy's minimal_bundles (5 subjects: AF_L, CST_R, CC_ForcepsMajor)

HAVE_DIPY = importlib.util.find_spec("dipy") is not None
BUNDLES = ("AF_L", "CST_R", "CC_ForcepsMajor")


def _translation_to_white_matter(points, brain, step=4.0):
    """Integer translation [mm] maximising the fraction of points in the white-matter mask.

    The bundles are only roughly in MNI space (offsets of 30-40 mm in y between subjects and
    template); one rigid shift per subject, found by grid search, puts them on the white matter.
    """
    mask = np.asarray(brain.mask)
    inv = np.linalg.inv(np.asarray(brain.affine, dtype=np.float64))
    shifts = np.array(
        list(itertools.product(np.arange(-20, 21, step), np.arange(-48, 21, step), np.arange(-20, 41, step)))
    )
    sample = points[:: max(1, len(points) // 1500)]
    moved = sample[None, :, :] + shifts[:, None, :]  # (shifts, points, 3)
    ijk = np.rint(moved @ inv[:3, :3].T + inv[:3, 3]).astype(np.int64)
    inside = np.all((ijk >= 0) & (ijk < mask.shape), axis=-1)
    ijk = np.where(inside[..., None], ijk, 0)
    hit = mask[ijk[..., 0], ijk[..., 1], ijk[..., 2]] & inside
    return shifts[np.argmax(hit.mean(axis=1))]


def bundle_agreement(brain, tmp_dir):
    """Median |cos| between the field at each segment's voxel and the segment, per bundle."""
    files = Path(importlib.util.find_spec("dipy").submodule_search_locations[0]) / "data" / "files"
    with zipfile.ZipFile(files / "minimal_bundles.zip") as z:
        z.extractall(tmp_dir)
    affine = np.asarray(brain.affine, dtype=np.float64)
    centres, segments = {b: [] for b in BUNDLES}, {b: [] for b in BUNDLES}
    for subject in sorted(Path(tmp_dir).glob("sub_*")):
        lines = {b: nib.streamlines.load(subject / f"{b}.trk").streamlines for b in BUNDLES}
        shift = _translation_to_white_matter(np.concatenate([lines[b].get_data() for b in BUNDLES]), brain)
        for b in BUNDLES:
            for sl in lines[b]:
                p = np.asarray(sl, dtype=np.float64) + shift
                seg = np.diff(p, axis=0)
                segments[b].append(seg / np.linalg.norm(seg, axis=1, keepdims=True))
                mid = 0.5 * (p[1:] + p[:-1])
                vox = np.rint((mid - affine[:3, 3]) / np.diag(affine)[:3])
                centres[b].append(vox * np.diag(affine)[:3] + affine[:3, 3])  # the voxel's centre
    medians = {}
    for b in BUNDLES:
        field = np.asarray(jax.jit(synthetic_fiber_field)(jnp.asarray(np.concatenate(centres[b]))))
        medians[b] = float(np.median(np.abs(np.sum(field * np.concatenate(segments[b]), axis=1))))
    return medians


@pytest.mark.skipif(not HAVE_DIPY, reason="dipy not installed")
def test_synthetic_field_against_dipy_bundles(tmp_path, mni_brain):
    medians = bundle_agreement(mni_brain, tmp_path)
    # random orientations give a median |cos| of 0.5
    assert medians["CC_ForcepsMajor"] > 0.7
    assert medians["CST_R"] > 0.7
    assert medians["AF_L"] > 0.52
