"""`axojax predict` with a surrogate trained on the FE brain: one solve per impact, the voxels in inverted
elements flagged and their profiles set to 0, as the run's profile store holds them."""

import jax.numpy as jnp
import numpy as np
from flax import nnx

from axojax.brain import brain_from_mask
from axojax.headmodel import AbstractHeadModel, ReducedHeadModel
from axojax.kinematics import half_sine_pulse
from axojax.pipeline.predict import _fe_maps, _head_model_of
from axojax.surrogate import SurrogateCNN, SurrogateConfig
from axojax.wholebrain import predict_maps

N_TIME = 20


class _StretchBrain(AbstractHeadModel):
    """A head model whose solve stretches every point along x by 0.001 (x + 10) sin(pi t / T), and whose
    elements under x > 3 mm inverted."""

    def damage(self, t_s, ang_acc_rad_s2):
        return jnp.zeros(())

    def motion(self, t_s, ang_acc_rad_s2):
        return jnp.sin(jnp.pi * t_s / t_s[-1]).astype(jnp.float32)

    def strain_from_motion(self, u, coords_mm):
        e = jnp.zeros((coords_mm.shape[0], u.shape[0], 3, 3), u.dtype)
        return e.at[:, :, 0, 0].set(1e-3 * (coords_mm[:, 0, None].astype(u.dtype) + 10.0) * u[None])

    def inverted_points(self, u, coords_mm):
        return coords_mm[:, 0] > 3.0


def test_fe_maps_flag_and_zero_the_inverted_voxels():
    rng = np.random.default_rng(0)
    mask = np.ones((6, 3, 2), bool)
    n = int(mask.sum())
    dirs = np.tile([1.0, 0.0, 0.0], (n, 1, 1)) + 0.1 * rng.normal(size=(n, 1, 3))
    brain = brain_from_mask(mask, np.diag([2.0, 2.0, 2.0, 1.0]), dirs, np.ones((n, 1)))
    model = SurrogateCNN(
        SurrogateConfig(n_time=N_TIME, dt_s=1e-3, channels=(4,), kernel_size=3, hidden=8), rngs=nnx.Rngs(0)
    )
    imp = half_sine_pulse(3000.0, 10.0, (0.0, 0.0, 1.0), window_ms=float(N_TIME), name="hit")
    (res, flags), *rest = list(_fe_maps(model, _StretchBrain(), [imp], brain, chunk_voxels=7))
    x = np.asarray(brain.coords_mm)[:, 0]
    assert not rest and 0 < flags.sum() < n
    np.testing.assert_array_equal(flags, x > 3.0)
    d = np.asarray(brain.fiber_dir)[:, 0]
    cos2 = d[:, 0] ** 2 / np.sum(d**2, axis=-1)
    t = np.asarray(imp.t_s)
    expect = 1e-3 * (x + 10.0)[:, None] * np.sin(np.pi * t / t[-1])[None] * cos2[:, None]
    expect[flags] = 0.0
    want = predict_maps(model, expect.astype(np.float32), name="hit", warn=False)
    np.testing.assert_allclose(res.values, want.values, rtol=1e-4, atol=1e-6)


def test_predict_rebuilds_the_surface_of_the_training_run(monkeypatch):
    import axojax.headmodel

    seen = {}
    monkeypatch.setattr(axojax.headmodel, "FEHeadModel", lambda **kw: seen.update(kw) or "fe")
    _head_model_of({"tissue_model": "fe", "element_size_mm": 4.0, "fe_surface": "smooth"})
    assert seen == {"element_size_mm": 4.0, "allow_inverted": True, "surface": "smooth"}


def test_predict_uses_the_head_model_of_the_training_run():
    fe = _head_model_of({"tissue_model": "fe", "element_size_mm": 6.0})
    assert fe.mesh.element_size_mm == 6.0 and fe.allow_inverted  # the run's tissue.inverted = "exclude"
    assert fe.surface == "staircase"  # a checkpoint from before tissue.surface
    for meta in ({"tissue_model": "reduced"}, {"tissue_model": "import"}, {}):  # {}: an older checkpoint
        assert isinstance(_head_model_of(meta), ReducedHeadModel)
