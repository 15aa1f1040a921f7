import json
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from axojax.headmodel import ReducedHeadModel
from axojax.kinematics import Impact
from axojax.surrogate import OUTPUT_NAMES, OutOfDistributionWarning, predict
from axojax.wholebrain import WholeBrainResult, impact_profiles, predict_maps, summary, whole_brain

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
    assert res.profiles_s > 0 and res.inference_s > 0
    profiles = impact_profiles(HEAD, impact, small_brain, chunk_voxels=CHUNK)
    np.testing.assert_allclose(
        res.values, predict(tiny_surrogate, profiles, batch_size=700, check=False), rtol=1e-5, atol=1e-5
    )
    meta = res.as_dict()
    assert meta["n_voxels"] == small_brain.n_voxels and meta["n_ood"] == 0
    json.dumps(meta, allow_nan=False)
    json.dumps(summary(res.values, small_brain, ood=res.ood), allow_nan=False)


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
