"""Stage 1b (tissue): the head model a run picks, and a tissue solve that stops names its impact."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import axojax.headmodel
from axojax.headmodel import ReducedHeadModel, damage
from axojax.kinematics import half_sine_pulse
from axojax.pipeline.config import RunConfig
from axojax.pipeline.tissue import head_model_for, solve_impact


def test_reduced_solve_passes_through():
    imp = half_sine_pulse(3000.0, 10.0, (0.0, 0.0, 1.0), window_ms=40.0)
    model = ReducedHeadModel()
    out = solve_impact(model, imp)
    np.testing.assert_array_equal(
        np.asarray(out), np.asarray(axojax.headmodel.motion(model, imp.t_s, imp.ang_acc_rad_s2))
    )


def test_a_stopped_solve_names_the_impact(monkeypatch):
    """The FE brain's failed check (an equinox runtime error inside the jitted solve) becomes a ValueError
    with the impact's name, its DAMAGE, the check's message and what to do."""
    imp = half_sine_pulse(6000.0, 10.0, (0.0, 1.0, 0.0), window_ms=40.0, name="hit_07")

    @eqx.filter_jit
    def failing(model, t_s, acc):
        return eqx.error_if(
            acc, jnp.any(acc > 0), "FEHeadModel: the explicit solve diverged: an element inverted"
        )

    monkeypatch.setattr(axojax.headmodel, "motion", failing)
    level = float(damage(ReducedHeadModel(), imp))
    with pytest.raises(ValueError) as info:
        solve_impact(ReducedHeadModel(), imp)
    msg = str(info.value)
    assert "'hit_07'" in msg and f"DAMAGE {level:.3f}" in msg
    assert "an element inverted" in msg and "tissue.model = 'reduced'" in msg and "resumes" in msg

    def out_of_memory(model, t_s, acc):
        raise RuntimeError("RESOURCE_EXHAUSTED: out of memory")

    monkeypatch.setattr(axojax.headmodel, "motion", out_of_memory)
    with pytest.raises(RuntimeError, match="RESOURCE_EXHAUSTED"):  # other failures pass through unchanged
        solve_impact(ReducedHeadModel(), imp)


def test_the_fe_tissue_model_of_a_run():
    model = head_model_for(RunConfig(tissue_model="fe", element_size_mm=6.0))
    assert isinstance(model, axojax.headmodel.FEHeadModel) and model.mesh.element_size_mm == 6.0
    assert not model.allow_inverted  # a run never uses strain from inverted elements
    assert isinstance(head_model_for(RunConfig()), ReducedHeadModel)
