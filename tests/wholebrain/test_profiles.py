import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.fiberstrain import build_profiles
from axojax.headmodel import ReducedHeadModel, strain_history
from axojax.kinematics import Impact
from axojax.wholebrain import impact_profiles

from .conftest import CHUNK

HEAD = ReducedHeadModel()


def head_strain_fn(imp, coords_mm):
    return strain_history(HEAD, imp.t_s, imp.ang_acc_rad_s2, coords_mm)


def test_equals_build_profiles(tmp_path, small_brain, impact):
    profiles = impact_profiles(HEAD, impact, small_brain, chunk_voxels=CHUNK)  # 4 chunks, last one padded
    ds = build_profiles(
        head_strain_fn,
        {impact.name: impact},
        small_brain,
        tmp_path / "store",
        t_s=np.asarray(impact.t_s),
        chunk_voxels=CHUNK,
    )
    expect = ds.read_impact(0)
    assert profiles.shape == (small_brain.n_voxels, impact.t_s.shape[0]) == expect.shape
    assert profiles.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(profiles), expect, rtol=1e-6, atol=1e-9)
    assert 0.005 < float(jnp.max(profiles)) < 0.5  # a real, moderate strain field


def test_chunk_size_and_time_grid(small_brain, impact):
    ref = impact_profiles(HEAD, impact, small_brain, chunk_voxels=CHUNK)
    # on the impact's own samples; a shorter grid from the same start is the same causal solution
    same = impact_profiles(HEAD, impact, small_brain, t_s=impact.t_s, chunk_voxels=CHUNK)
    np.testing.assert_allclose(same, ref, atol=1e-7)
    head = impact_profiles(HEAD, impact, small_brain, t_s=np.asarray(impact.t_s)[:15], chunk_voxels=CHUNK)
    np.testing.assert_allclose(head, ref[:, :15], atol=1e-7)


def test_errors(small_brain, impact):
    batch = jax.tree.map(lambda a: jnp.stack([a, a]), impact)
    with pytest.raises(ValueError, match="single impact"):
        impact_profiles(HEAD, batch, small_brain)
    with pytest.raises(ValueError, match="chunk_voxels"):
        impact_profiles(HEAD, impact, small_brain, chunk_voxels=0)
    with pytest.raises(ValueError, match="increasing"):
        impact_profiles(HEAD, impact, small_brain, t_s=np.zeros(5))
    huge = Impact(impact.t_s, 1e3 * impact.ang_vel_rad_s, 1e3 * impact.ang_acc_rad_s2, name="x1000")
    with pytest.raises(ValueError, match="x1000"):
        impact_profiles(HEAD, huge, small_brain, chunk_voxels=CHUNK)
