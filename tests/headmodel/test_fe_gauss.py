"""The fully integrated (2x2x2 Gauss-point deviatoric) cells of the FE solver against independent truths:
the trilinear shape functions, the one-point + hourglass element it equals at small strain, its energy,
the patch test and objectivity. Small meshes; float64 unless a test says otherwise."""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.headmodel import _fe_solver as fe


def tables(g_inf=1.0, bulk=10.0, rho=1.0, g1=0.0, beta=0.0, dtype=jnp.float64):
    """Homogeneous material on every label (units of the solver, or any consistent set)."""
    v = lambda x: jnp.full((5,), x, dtype)  # noqa: E731
    return fe.LabelTables(
        density=v(rho),
        bulk=v(bulk),
        shear_inf=v(g_inf),
        shear_terms=v(g1)[:, None],
        decay=v(beta)[:, None],
        hourglass_scale=jnp.asarray(1.0, dtype),
    )


def jagged_labels(seed=0):
    rng = np.random.default_rng(seed)
    lab = (rng.random((6, 5, 7)) < 0.8).astype(np.int32) * rng.integers(1, 4, (6, 5, 7)).astype(np.int32)
    lab[2:4, 2:4, 2:5] = 3
    return lab


def forces(fields, state, u, dt=1.0):
    return fe.internal_forces(fields, eqx.tree_at(lambda s: s.u, state, u), jnp.asarray(dt, u.dtype))[0]


def test_gauss_gradients_are_the_trilinear_gradients_at_the_gauss_points():
    rng = np.random.default_rng(3)
    h = 1.7
    u = rng.normal(size=(3, 2, 2, 2))
    grad, q = fe.element_gradients(jnp.asarray(u), h)
    got = np.asarray(fe.gauss_gradients(grad, q, h))[:, :, :, 0, 0, 0]
    for g, xi in enumerate(fe.GAUSS_POINTS):
        ref = np.zeros((3, 3))
        for a, (i, j, k) in enumerate(itertools.product((0, 1), repeat=3)):
            s = 2.0 * np.array([i, j, k]) - 1.0
            f = 1.0 + s * xi
            dndx = s * np.array([f[1] * f[2], f[0] * f[2], f[0] * f[1]]) / 8.0 * (2.0 / h)
            ref += np.outer(u[:, i, j, k], dndx)
        np.testing.assert_allclose(got[:, :, g], ref, atol=1e-12)
    np.testing.assert_allclose(np.mean(got, axis=2), np.asarray(grad)[:, :, 0, 0, 0], atol=1e-12)


def test_surface_cells_of_a_box_are_its_outer_layer():
    labels = np.zeros((7, 8, 9), np.int32)
    labels[1:6, 1:7, 1:8] = 2  # a 5 x 6 x 7 box
    cells = np.asarray(fe.surface_cells(labels))
    assert cells.size == 5 * 6 * 7 - 3 * 4 * 5
    inner = np.zeros_like(labels, bool)
    inner[2:5, 2:6, 2:7] = True
    assert not inner.reshape(-1)[cells].any()
    assert (labels.reshape(-1)[cells] == 2).all()
    # the box touching the grid's edge: that face is exposed too
    edge = np.full((3, 3, 3), 2, np.int32)
    assert np.asarray(fe.surface_cells(edge)).size == 26


@pytest.mark.parametrize("which", ["surface", "full"])
def test_small_strain_stiffness_equals_the_one_point_element(which):
    """At rest the Gauss cells have the stiffness of one point + the exact hourglass term (= B-bar)."""
    labels = jnp.asarray(jagged_labels())
    tab = tables(g_inf=1.3, bulk=7.0)
    gauss = fe.surface_cells(labels) if which == "surface" else fe.deforming_cells(labels)
    assert 0 < gauss.shape[0]
    ref = fe.element_fields(labels, tab, jnp.zeros(3), jnp.zeros(3), 1.5)
    new = fe.element_fields(labels, tab, jnp.zeros(3), jnp.zeros(3), 1.5, gauss=gauss)
    s_ref = fe.init_state(labels, 1, jnp.float64)
    s_new = fe.init_state(labels, 1, jnp.float64, n_gauss=gauss.shape[0])
    k_ref = jax.jit(jax.jacfwd(lambda u: forces(ref, s_ref, u)))(s_ref.u)
    k_new = jax.jit(jax.jacfwd(lambda u: forces(new, s_new, u)))(s_new.u)
    scale = float(jnp.max(jnp.abs(k_ref)))
    assert float(jnp.max(jnp.abs(k_new - k_ref))) < 1e-12 * scale


def test_gauss_forces_are_minus_the_gradient_of_the_energy_at_large_strain():
    labels = jnp.asarray(jagged_labels(2))
    fields = fe.element_fields(
        labels, tables(g_inf=1.1, bulk=20.0), jnp.zeros(3), jnp.zeros(3), 1.5, gauss=fe.surface_cells(labels)
    )
    state = fe.init_state(labels, 1, jnp.float64, n_gauss=fields.gauss.shape[0])
    u = jnp.asarray(np.random.default_rng(4).normal(size=state.u.shape) * 0.25)  # strains ~ 0.3
    f = forces(fields, state, u)
    g = jax.grad(lambda x: fe.strain_energy(fields, x))(u)
    free = np.asarray(fields.inv_mass) > 0
    np.testing.assert_allclose(np.asarray(f)[:, free], -np.asarray(g)[:, free], atol=1e-10)
    # and the Gauss cells change the energy at large strain (they are not the one-point element there)
    ref = fe.element_fields(labels, tables(g_inf=1.1, bulk=20.0), jnp.zeros(3), jnp.zeros(3), 1.5)
    assert abs(float(fe.strain_energy(fields, u) / fe.strain_energy(ref, u)) - 1.0) > 1e-3


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_patch_test_and_rigid_rotation_with_gauss_cells(dtype):
    """A linear field gives no force on a free node; a 50-degree rigid rotation gives no force at all."""
    labels = jnp.asarray(jagged_labels(1))
    tab = tables(dtype=dtype)
    z = jnp.zeros(3, dtype)
    fields = fe.element_fields(labels, tab, z, z, 2.0, gauss=fe.surface_cells(labels))
    state = fe.init_state(labels, 1, dtype, n_gauss=fields.gauss.shape[0])
    a = jnp.asarray([[0.05, 0.02, -0.01], [0.0, -0.03, 0.04], [0.01, 0.0, 0.02]], dtype)
    f = jax.jit(forces)(fields, state, jnp.einsum("ij,j...->i...", a, fields.positions))
    free = np.asarray(fields.inv_mass) > 0
    tol = 1e-12 if dtype == jnp.float64 else 1e-6
    scale = float(jnp.max(jnp.abs(f)))
    assert scale > 0 and free.sum() > 10
    assert float(jnp.max(jnp.abs(np.asarray(f)[:, free]))) <= 1e3 * tol * scale
    ang, n = np.deg2rad(50.0), np.array([1.0, 2.0, 2.0]) / 3.0
    k = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    rot = np.eye(3) + np.sin(ang) * k + (1 - np.cos(ang)) * k @ k
    f = jax.jit(forces)(
        fields, state, jnp.einsum("ij,j...->i...", jnp.asarray(rot - np.eye(3), dtype), fields.positions)
    )
    assert float(jnp.max(jnp.abs(f))) < 10 * tol * 10.0 * 8.0


def test_viscoelastic_gauss_cells_follow_the_one_point_element_under_uniform_strain():
    """Under a uniform strain history every Gauss point sees the centre strain, so the Prony recursion at
    the Gauss points reproduces the one-point forces step by step (a ramp, then a hold)."""
    labels = jnp.asarray(jagged_labels(5))
    tab = tables(g_inf=0.4, bulk=5.0, g1=1.6, beta=0.7)
    gauss = fe.deforming_cells(labels)
    ref = fe.element_fields(labels, tab, jnp.zeros(3), jnp.zeros(3), 1.0)
    new = fe.element_fields(labels, tab, jnp.zeros(3), jnp.zeros(3), 1.0, gauss=gauss)
    a = jnp.asarray([[0.0, 0.3, 0.0], [0.1, 0.0, 0.0], [0.0, 0.0, -0.05]])

    def history(fields, state):
        def body(st, t):
            u = jnp.minimum(t, 2.0) * jnp.einsum("ij,j...->i...", a, fields.positions)
            f, st = fe.internal_forces(fields, eqx.tree_at(lambda s: s.u, st, u), jnp.asarray(0.25))
            return st, f

        return jax.lax.scan(body, state, jnp.arange(1, 17, dtype=jnp.float64) * 0.25)[1]

    f_ref = jax.jit(history)(ref, fe.init_state(labels, 1, jnp.float64))
    f_new = jax.jit(history)(new, fe.init_state(labels, 1, jnp.float64, n_gauss=gauss.shape[0]))
    scale = float(jnp.max(jnp.abs(f_ref)))
    assert float(jnp.max(jnp.abs(f_ref[7] - f_ref[-1]))) > 1e-2 * scale  # it relaxes during the hold
    np.testing.assert_allclose(np.asarray(f_new), np.asarray(f_ref), atol=1e-12 * scale)
