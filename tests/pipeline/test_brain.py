import nibabel as nib
import numpy as np
import pytest

from axojax.pipeline import RunConfig
from axojax.pipeline.brain import load_run_brain

from .conftest import write_mask_and_v1


def test_user_mask_and_v1_and_resampling_a_finer_v1(tmp_path):
    ref = write_mask_and_v1(tmp_path, 12.0)
    config = RunConfig.preset_config(
        "tiny",
        brain_mask=str(tmp_path / "wm.nii.gz"),
        mask_threshold=0.5,
        resolution_mm=0.0,
        fibers="v1",
        fibers_path=str(tmp_path / "dti_V1.nii.gz"),
    )
    brain = load_run_brain(config)
    assert brain.n_voxels == ref.n_voxels
    dots = np.abs(np.sum(np.asarray(brain.fiber_dir)[:, 0] * np.asarray(ref.fiber_dir)[:, 0], axis=-1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-5)  # the FSL V1 round trip gives the same fibers
    # the same V1 on a grid twice as fine (6 mm): refused, unless resampled to the mask's grid
    img = nib.load(tmp_path / "dti_V1.nii.gz")
    fine = np.repeat(np.repeat(np.repeat(np.asarray(img.dataobj), 2, 0), 2, 1), 2, 2)
    aff = np.asarray(img.affine, np.float64).copy()
    aff[:3, :3] /= 2.0
    aff[:3, 3] -= np.diag(img.affine)[:3] / 4.0  # fine voxel centres inside the coarse ones
    nib.save(nib.Nifti1Image(fine, aff), str(tmp_path / "fine_V1.nii.gz"))
    other = RunConfig.preset_config(
        "tiny", **{**_fields(config), "fibers_path": str(tmp_path / "fine_V1.nii.gz")}
    )
    with pytest.raises(ValueError, match=r"fine_V1\.nii\.gz: field V1 needs shape"):
        load_run_brain(other)
    resampled = load_run_brain(
        RunConfig.preset_config("tiny", **{**_fields(other), "fibers_resample": True}), tmp_path
    )
    dots = np.abs(np.sum(np.asarray(resampled.fiber_dir)[:, 0] * np.asarray(ref.fiber_dir)[:, 0], axis=-1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-5)


def _fields(c):
    keys = ("brain_mask", "mask_threshold", "resolution_mm", "fibers", "fibers_path")
    return {k: getattr(c, k) for k in keys}
