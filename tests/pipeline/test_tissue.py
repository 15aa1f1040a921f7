"""Stage 1b (tissue): the head model a run picks, and a tissue solve that stops names its impact."""

from types import SimpleNamespace

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
    assert "tissue.inverted = 'exclude'" in msg

    @eqx.filter_jit
    def non_finite(model, t_s, acc):
        return eqx.error_if(acc, jnp.any(acc > 0), "FEHeadModel: the explicit solve diverged (NaN/inf)")

    monkeypatch.setattr(axojax.headmodel, "motion", non_finite)
    with pytest.raises(ValueError, match=r"NaN/inf\).*check its kinematics") as info:
        solve_impact(ReducedHeadModel(), imp)
    assert "tissue.inverted" not in str(info.value)  # excluding elements cannot help a divergence

    def out_of_memory(model, t_s, acc):
        raise RuntimeError("RESOURCE_EXHAUSTED: out of memory")

    monkeypatch.setattr(axojax.headmodel, "motion", out_of_memory)
    with pytest.raises(RuntimeError, match="RESOURCE_EXHAUSTED"):  # other failures pass through unchanged
        solve_impact(ReducedHeadModel(), imp)


def test_the_run_passes_its_fe_settings_to_the_model(monkeypatch):
    """The default run asks for the smooth surface and finishing solves with inverted elements (the smooth
    mesh itself is tested in tests/headmodel/test_fe_model.py: building it on the MNI brain costs ~30 s)."""
    seen = {}
    monkeypatch.setattr(axojax.headmodel, "FEHeadModel", lambda **kw: seen.update(kw) or "fe")
    assert head_model_for(RunConfig(tissue_model="fe")) == "fe"
    assert seen == {"element_size_mm": 6.0, "allow_inverted": True, "surface": "smooth"}
    head_model_for(RunConfig(tissue_model="fe", fe_surface="staircase", inverted_elements="stop"))
    assert (seen["surface"], seen["allow_inverted"]) == ("staircase", False)


def test_the_fe_tissue_model_of_a_run():
    model = head_model_for(
        RunConfig(tissue_model="fe", element_size_mm=6.0, inverted_elements="stop", fe_surface="staircase")
    )
    assert isinstance(model, axojax.headmodel.FEHeadModel) and model.mesh.element_size_mm == 6.0
    assert not model.allow_inverted  # "stop": the solve stops at the first inverted element
    assert model.surface == "staircase" and model.mesh.node_offset_mm is None
    assert isinstance(head_model_for(RunConfig(tissue_model="reduced")), ReducedHeadModel)
    default = RunConfig()  # the default run: the FE brain at 6 mm, excluding inverted elements
    assert (default.tissue_model, default.element_size_mm, default.inverted_elements, default.fe_surface) == (
        "fe",
        6.0,
        "exclude",
        "smooth",
    )
    with pytest.raises(ValueError, match="fe_surface"):
        RunConfig(fe_surface="smoothed")
    assert RunConfig.preset_config("tiny").tissue_model == "reduced"  # the tests' runs


class _FlaggingModel(eqx.Module):
    """Stands in for an FE brain whose solve inverted the elements under x > 0."""

    def inverted_cells(self, motion):
        return jnp.ones((2, 2, 2), bool)

    def points_in_cells(self, cells, coords_mm):
        return coords_mm[:, 0] > 0.0


def test_fe_exclude_flags_the_points_of_the_solved_motion(monkeypatch):
    """With tissue.inverted = 'exclude' the run's flags come from the same (cached) solve as its strain, and a
    flagged point's strain (an inverted element's, which can pass 100 %) is stored as 0."""
    import axojax.pipeline.tissue as tissue

    solves = []

    def solve(model, impact):
        solves.append(impact.name)
        return jnp.zeros((3, 3, 2, 2, 2))

    monkeypatch.setattr(tissue, "head_model_for", lambda config: _FlaggingModel())
    monkeypatch.setattr(tissue, "solve_impact", solve)
    unit_strain = lambda m, u, c: jnp.full((c.shape[0], 3, 3, 3), 0.01)  # noqa: E731
    monkeypatch.setattr(axojax.headmodel, "strain_from_motion", unit_strain)
    imp = half_sine_pulse(3000.0, 10.0, (0.0, 0.0, 1.0), window_ms=3.0, name="hit")
    coords = jnp.asarray([[-1.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    t_s = np.asarray(imp.t_s)
    brain = SimpleNamespace(voxel_size_mm=(2.0, 2.0, 2.0))
    strain_fn, _, excluded_fn = tissue.strain_function(RunConfig(tissue_model="fe"), ["hit"], brain, t_s)
    e = np.asarray(strain_fn(imp, coords))
    assert e.shape == (2, 3, 3, 3) and np.all(e[0] == 0.01) and np.all(e[1] == 0.0)  # flagged: stored as 0
    np.testing.assert_array_equal(np.asarray(excluded_fn(imp, coords)), [False, True])
    assert solves == ["hit"]  # one solve for the strain and the flags
    for config in (RunConfig(tissue_model="fe", inverted_elements="stop"), RunConfig(tissue_model="reduced")):
        assert tissue.strain_function(config, ["hit"], brain, t_s)[2] is None
