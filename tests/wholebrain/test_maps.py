import json
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from axojax.headmodel import AbstractHeadModel, ReducedHeadModel
from axojax.kinematics import Impact
from axojax.surrogate import OUTPUT_NAMES, OutOfDistributionWarning, predict
from axojax.wholebrain import (
    VoxelChunks,
    WholeBrainResult,
    impact_profiles,
    predict_maps,
    summary,
    voxel_chunks,
    whole_brain,
    whole_brain_many,
)

from .conftest import CHUNK, DT_S

HEAD = ReducedHeadModel()


def test_whole_brain_end_to_end(small_brain, impact, tiny_surrogate):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # untrained ranges are inf: no OOD warning
        res = whole_brain(tiny_surrogate, HEAD, impact, small_brain, chunk_voxels=CHUNK, batch_size=700)
    assert isinstance(res, WholeBrainResult)
    assert res.name == "pulse_4k" and res.output_names == OUTPUT_NAMES
    assert res.values.shape == (small_brain.n_voxels, 4) and res.values.dtype == np.float32
    assert np.isfinite(res.values).all()
    assert res.ood.shape == (small_brain.n_voxels,) and res.ood.dtype == bool and not res.ood.any()
    assert res.profiles_s is None and res.inference_s > 0  # fused: one program, one timing
    assert res.fused and res.compute_s == res.inference_s
    profiles = impact_profiles(HEAD, impact, small_brain, chunk_voxels=CHUNK)
    np.testing.assert_allclose(
        res.values, predict(tiny_surrogate, profiles, batch_size=700, check=False), rtol=1e-5, atol=1e-5
    )
    meta = res.as_dict()
    assert meta["n_voxels"] == small_brain.n_voxels and meta["n_ood"] == 0
    assert meta["fused"] is True and meta["compute_s"] == res.inference_s and meta["profiles_s"] is None
    split = whole_brain(
        tiny_surrogate, HEAD, impact, small_brain, fused=False, chunk_voxels=CHUNK, batch_size=700
    )
    assert not split.fused and split.profiles_s > 0 and split.inference_s > 0  # profiles timed on their own
    assert split.compute_s == split.profiles_s + split.inference_s
    json.dumps(meta, allow_nan=False)
    json.dumps(summary(res.values, small_brain, ood=res.ood), allow_nan=False)


class _ViaTensors(AbstractHeadModel):
    """The reduced model seen as any head model: the fused program takes the strain-tensor branch."""

    inner: ReducedHeadModel

    def damage(self, t_s, ang_acc_rad_s2):
        return self.inner.damage(t_s, ang_acc_rad_s2)

    def motion(self, t_s, ang_acc_rad_s2):
        return self.inner.motion(t_s, ang_acc_rad_s2)

    def strain_from_motion(self, motion, coords_mm):
        return self.inner.strain_from_motion(motion, coords_mm)


@pytest.mark.parametrize("dtype", [np.float32])  # float64 impacts: test_whole_brain_end_to_end
def test_fused_program_equals_profiles_then_surrogate(small_brain, impact, tiny_surrogate, dtype):
    """One jitted program per impact (closed-form twist projection, first conv as taps) gives the outputs
    and OOD flags of the earlier path (all profiles, then the chunked surrogate) to float32 rounding."""
    imp = Impact(
        impact.t_s.astype(dtype),
        impact.ang_vel_rad_s.astype(dtype),
        impact.ang_acc_rad_s2.astype(dtype),
        name=impact.name,
    )
    profiles = impact_profiles(HEAD, imp, small_brain, chunk_voxels=CHUNK)
    peak = np.abs(np.asarray(profiles)).max(axis=1)
    tiny_surrogate.max_abs_strain[...] = jnp.asarray(np.median(peak), jnp.float32)  # half the voxels OOD
    with pytest.warns(OutOfDistributionWarning):
        ref = whole_brain(tiny_surrogate, HEAD, imp, small_brain, fused=False, chunk_voxels=CHUNK, margin=0.0)
    chunks = voxel_chunks(small_brain, 700)  # 3 chunks, the last one padded
    for head in (HEAD, _ViaTensors(HEAD)):
        with pytest.warns(OutOfDistributionWarning, match=f"{int(ref.ood.sum())} of {small_brain.n_voxels}"):
            res = whole_brain(tiny_surrogate, head, imp, small_brain, chunks=chunks, margin=0.0)
        scale = np.maximum(np.abs(ref.values).max(axis=0), 1e-6)  # per output; clipped columns may be 0
        np.testing.assert_allclose(res.values / scale, ref.values / scale, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(res.ood, ref.ood)
        assert 0.3 < res.ood.mean() < 0.7
    direct = np.asarray(tiny_surrogate(jnp.asarray(profiles)))  # the model itself, unchunked
    np.testing.assert_allclose(res.values / scale, direct / scale, rtol=1e-5, atol=1e-5)
    other = VoxelChunks(chunks.coords_mm, chunks.fiber_dir, chunks.fiber_weight, n_voxels=5)
    with pytest.raises(ValueError, match="chunks hold 5 voxels"):
        whole_brain(tiny_surrogate, HEAD, imp, small_brain, chunks=other)


def test_whole_brain_many_keeps_order_and_numbers(small_brain, impact, tiny_surrogate):
    """Two programs in flight: each impact's result is whole_brain's, in the impacts' order."""
    chunks = voxel_chunks(small_brain, 700)
    scaled = [
        Impact(impact.t_s, f * impact.ang_vel_rad_s, f * impact.ang_acc_rad_s2, name=f"x{f}")
        for f in (0.5, 1.0, 2.0)
    ]
    many = list(whole_brain_many(tiny_surrogate, HEAD, iter(scaled), small_brain, chunks=chunks))
    assert [r.name for r in many] == ["x0.5", "x1.0", "x2.0"]
    for imp, res in zip(scaled, many, strict=True):
        one = whole_brain(tiny_surrogate, HEAD, imp, small_brain, chunks=chunks)
        np.testing.assert_array_equal(res.values, one.values)
        assert res.inference_s > 0 and res.profiles_s is None
    assert not np.array_equal(many[0].values, many[2].values)
    with pytest.raises(ValueError, match="in_flight"):
        next(whole_brain_many(tiny_surrogate, HEAD, scaled, small_brain, in_flight=0))


def test_ood_flags_and_warning(small_brain, impact, tiny_surrogate):
    profiles = impact_profiles(HEAD, impact, small_brain, chunk_voxels=CHUNK)
    peak = np.abs(np.asarray(profiles)).max(axis=1)
    tiny_surrogate.max_abs_strain[...] = jnp.asarray(np.median(peak), jnp.float32)
    with pytest.warns(OutOfDistributionWarning):
        res = predict_maps(tiny_surrogate, profiles, name="x", batch_size=700, margin=0.0, dt_s=DT_S)
    np.testing.assert_array_equal(res.ood, peak > np.float32(np.median(peak)))
    assert 0.3 < res.ood.mean() < 0.7 and res.profiles_s is None
    quiet = predict_maps(tiny_surrogate, profiles, batch_size=700, margin=0.0, warn=False)
    np.testing.assert_array_equal(quiet.ood, res.ood)


def test_grid_mismatch_rejected_before_profiles(small_brain, tiny_surrogate):
    def still(t):
        return Impact(t, np.zeros((len(t), 3)), np.zeros((len(t), 3)), name="still")

    long = still(np.arange(60) * 1e-3)
    with pytest.raises(ValueError, match="60 time samples.*40"):
        whole_brain(tiny_surrogate, HEAD, long, small_brain)
    with pytest.raises(ValueError, match="dt 0.002 s"):
        whole_brain(tiny_surrogate, HEAD, still(np.arange(40) * 2e-3), small_brain)
    with pytest.raises(ValueError, match="uniform"):
        t = np.r_[np.arange(39) * 1e-3, 0.0395]
        whole_brain(tiny_surrogate, HEAD, long, small_brain, t_s=t)
    with pytest.raises(ValueError, match="batch_size"):
        predict_maps(tiny_surrogate, np.zeros((3, 40), np.float32), batch_size=0)
