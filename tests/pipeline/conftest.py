"""Small real-format study data: a 10 kHz multi-impact MAT file, CSVs with alias headers, imported
strain for one impact, a white-matter mask and FSL V1 on a coarse (6 mm) grid, and a study file."""

import jax.numpy as jnp
import nibabel as nib
import numpy as np
import pytest
import scipy.io

from axojax.brain import default_brain
from axojax.headmodel import ReducedHeadModel, strain_history
from axojax.kinematics import half_sine_pulse

RATE_HZ = 10_000.0


def pulse_record(peak_rad_s2, duration_ms, axis, onset_ms, record_ms=150.0):
    """(t [s], ω [rad/s], α [rad/s²]) of a half-sine pulse sampled at 10 kHz."""
    imp = half_sine_pulse(
        peak_rad_s2, duration_ms, axis, dt_ms=1e3 / RATE_HZ, window_ms=record_ms, onset_ms=onset_ms
    )
    return np.asarray(imp.t_s), np.asarray(imp.ang_vel_rad_s), np.asarray(imp.ang_acc_rad_s2)


def write_mat(path, records):
    rec = np.zeros(
        (1, len(records)), dtype=[("t", "O"), ("ang_vel", "O"), ("ang_acc", "O"), ("lin_acc_CG", "O")]
    )
    for i, (t, w, a) in enumerate(records):
        rec[0, i] = (t[:, None], w, a, np.zeros_like(w))
    scipy.io.savemat(path, {"impact": rec})


def write_mask_and_v1(folder, resolution_mm=12.0):
    """A white-matter probability map and an FSL V1 image on its grid (from the embedded brain)."""
    brain = default_brain(resolution_mm)
    affine = np.asarray(brain.affine, np.float64)
    prob = np.where(np.asarray(brain.mask), 0.9, 0.1).astype(np.float32)
    nib.save(nib.Nifti1Image(prob, affine), str(folder / "wm.nii.gz"))
    dirs = np.asarray(brain.fiber_dir)[:, 0, :].astype(np.float64)  # world frame
    rot = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    vox = dirs @ rot  # world -> voxel axes; FSL flips x for a neurological affine
    vox[:, 0] *= -1.0 if np.linalg.det(affine[:3, :3]) > 0 else 1.0
    v1 = np.zeros(prob.shape + (3,), np.float32)
    ijk = np.asarray(brain.voxel_ijk)
    v1[ijk[:, 0], ijk[:, 1], ijk[:, 2]] = vox
    nib.save(nib.Nifti1Image(v1, affine), str(folder / "dti_V1.nii.gz"))
    return brain


@pytest.fixture(scope="session")
def study_dir(tmp_path_factory):
    """The study folder: kinematics/season.mat (2 impacts), kinematics/*.csv (2), strain/, wm + V1,
    study.toml (tiny settings)."""
    root = tmp_path_factory.mktemp("study")
    kin = root / "kinematics"
    kin.mkdir()
    write_mat(
        kin / "season.mat",
        [pulse_record(2500.0, 12.0, (0.0, 0.0, 1.0), 40.0), pulse_record(6000.0, 8.0, (1.0, 0.2, 0.0), 60.0)],
    )
    t, w, a = pulse_record(3500.0, 10.0, (0.0, 1.0, 0.3), 30.0)
    np.savetxt(
        kin / "hit_omega.csv",
        np.column_stack([t, w, a]),
        delimiter=",",
        header="Time,omega_x,omega_y,omega_z,alpha_x,alpha_y,alpha_z",
        comments="",
    )
    t, w, _ = pulse_record(1500.0, 15.0, (1.0, 0.0, 1.0), 50.0)
    np.savetxt(
        kin / "hit_deg.csv",
        np.column_stack([t * 1e3, np.degrees(w)]),
        delimiter=",",
        header="time [ms],ang_vel_x [deg/s],ang_vel_y [deg/s],ang_vel_z [deg/s]",
        comments="",
    )
    brain = write_mask_and_v1(root)
    # imported strain of one impact: the reduced head model's field on 100 ms at 1 ms from the record start
    strain = root / "strain"
    strain.mkdir()
    imp = half_sine_pulse(3500.0, 10.0, (0.0, 1.0, 0.3), dt_ms=1.0, window_ms=100.0, onset_ms=30.0)
    coords = np.asarray(brain.coords_mm, np.float64)
    e = np.asarray(strain_history(ReducedHeadModel(), imp.t_s, imp.ang_acc_rad_s2, jnp.asarray(coords)))
    np.savez(strain / "hit_omega.npz", coords_mm=coords, t_s=np.asarray(imp.t_s), strain=e)
    (root / "study.toml").write_text(
        """
preset = "tiny"
seed = 1
[impacts]
source = "kinematics"
held_out = "most_severe"
[kinematics]
window_ms = "auto"
[tissue]
model = "import"
strain = "strain/{name}.npz"
fallback = "reduced"
[brain]
mask = "wm.nii.gz"
threshold = 0.5
resolution_mm = 0
[fibers]
source = "v1"
path = "dti_V1.nii.gz"
[sampling]
n_train = 30
lc_sizes = [30]
n_worst = 6
augment_copies = 1
[surrogate]
epochs = 3
patience = 3
[maps]
impacts = "all"
"""
    )
    return root
