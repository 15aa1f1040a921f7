"""The fully integrated (2x2x2 Gauss-point deviatoric) cells of the FE solver against independent truths:
the trilinear shape functions, the one-point + hourglass element it equals at small strain, its energy,
the patch test and objectivity. Small meshes; float64 unless a test says otherwise."""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fe_helpers import jagged_labels, tables

from axojax.headmodel import _fe_solver as fe


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


def test_small_strain_stiffness_equals_the_one_point_element():
    """At rest the Gauss cells have the stiffness of one point + the exact hourglass term (= B-bar)."""
    labels = jnp.asarray(jagged_labels())
    tab = tables(g_inf=1.3, bulk=7.0)
    gauss = fe.surface_cells(labels)  # Gauss and one-point cells side by side (all-Gauss: test_fe_model)
    assert 0 < gauss.shape[0]
    ref = fe.element_fields(labels, tab, jnp.zeros(3), jnp.zeros(3), 1.5)
    new = fe.element_fields(labels, tab, jnp.zeros(3), jnp.zeros(3), 1.5, gauss=gauss)
    s_ref = fe.init_state(labels, 1, jnp.float64)
    s_new = fe.init_state(labels, 1, jnp.float64, n_gauss=gauss.shape[0])
    # the stiffness applied to random directions (a linear map is fixed by them with probability 1)
    dirs = jnp.asarray(np.random.default_rng(7).normal(size=(4, *s_ref.u.shape)))

    def apply(fields, state):
        return jax.vmap(lambda d: jax.jvp(lambda u: forces(fields, state, u), (state.u,), (d,))[1])(dirs)

    k_ref = jax.jit(apply)(ref, s_ref)
    k_new = jax.jit(apply)(new, s_new)
    scale = float(jnp.max(jnp.abs(k_ref)))
    assert scale > 0
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


# --- moved reference nodes (a smoothed mesh) ---------------------------------------------------------------


def moved_fields(dtype=jnp.float64, seed=0, amplitude=0.2, h=1.5):
    """The jagged mesh with every node moved at random by up to `amplitude` h, every cell Gauss-integrated."""
    labels = jnp.asarray(jagged_labels(seed))
    node_shape = tuple(n + 1 for n in labels.shape)
    off = np.random.default_rng(seed).uniform(-amplitude, amplitude, (3, *node_shape)) * h
    gauss = fe.deforming_cells(labels)
    z = jnp.zeros(3, dtype)
    fields = fe.element_fields(
        labels, tables(dtype=dtype), z, z, h, gauss=gauss, offset=jnp.asarray(off, dtype)
    )
    return labels, off, fields, fe.init_state(labels, 1, dtype, n_gauss=gauss.shape[0])


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_patch_test_on_moved_nodes(dtype):
    """Distorted trilinear hexahedra: a linear field u = A X gives du/dX = A at every centre, no force on
    any free node, and a rigid rotation gives no force at all."""
    labels, off, fields, state = moved_fields(dtype)
    a = jnp.asarray([[0.05, 0.02, -0.01], [0.0, -0.03, 0.04], [0.01, 0.0, 0.02]], dtype)
    u = jnp.einsum("ij,j...->i...", a, fields.positions)
    deform = np.asarray(fe.deformable_mask(labels))
    tol = 1e-12 if dtype == jnp.float64 else 1e-6
    grad = np.asarray(fe.centre_gradients(u, 1.5, jnp.asarray(off, dtype)))[:, :, deform]
    np.testing.assert_allclose(grad, np.broadcast_to(np.asarray(a)[:, :, None], grad.shape), atol=10 * tol)
    f = jax.jit(forces)(fields, state, u)
    free = np.asarray(fields.inv_mass) > 0
    scale = float(jnp.max(jnp.abs(f)))
    assert scale > 0
    assert float(jnp.max(jnp.abs(np.asarray(f)[:, free]))) <= 1e3 * tol * scale
    ang = 0.7
    rot = np.array([[np.cos(ang), -np.sin(ang), 0.0], [np.sin(ang), np.cos(ang), 0.0], [0.0, 0.0, 1.0]])
    ur = jnp.einsum("ij,j...->i...", jnp.asarray(rot - np.eye(3), dtype), fields.positions)
    assert float(jnp.max(jnp.abs(jax.jit(forces)(fields, state, ur)))) < 100 * tol
    assert float(fe.min_corner_jacobian(ur, 1.5, fields.deform, fields.offset)) == pytest.approx(
        1.0, abs=10 * tol
    )


def test_moved_nodes_energy_volume_mass_and_corner_jacobians():
    """Forces are minus the energy gradient; the cells' volumes sum to the enclosed volume of the moved
    boundary (divergence theorem, sum a.X / 3); the lumped masses sum to rho V; corner Jacobians are the
    ratio of the deformed to the reference corner determinants."""
    from axojax.headmodel._fe_mesh import boundary_area_vectors, corner_jacobians

    labels, off, fields, state = moved_fields(seed=3)
    u = jnp.asarray(np.random.default_rng(1).normal(size=state.u.shape) * 0.2)
    f = forces(fields, state, u)
    g = jax.grad(lambda x: fe.strain_energy(fields, x))(u)
    np.testing.assert_allclose(np.asarray(f), -np.asarray(g), atol=1e-10)
    inside = np.asarray(fe.deformable_mask(labels))
    area = boundary_area_vectors(inside, 1.5, off)
    np.testing.assert_allclose(area.sum(axis=(1, 2, 3)), 0.0, atol=1e-10)  # a closed surface
    grid = np.stack(np.meshgrid(*[1.5 * np.arange(n) for n in off.shape[1:]], indexing="ij"))
    enclosed = np.sum(area * (grid + off)) / 3.0
    assert float(jnp.sum(fields.volume)) == pytest.approx(enclosed, rel=1e-12)
    assert float(jnp.sum(fields.volume)) != pytest.approx(1.5**3 * inside.sum(), rel=1e-3)  # it moved
    mass = fe.node_mass(labels, tables(rho=1.3).density, 1.5, fields.gauss, fields.offset)
    assert float(jnp.sum(mass)) == pytest.approx(1.3 * enclosed, rel=1e-12)
    assert float(jnp.min(mass)) >= 0.0
    jac = np.asarray(fe.min_corner_jacobian(u, 1.5, fields.deform, fields.offset))
    ref = (corner_jacobians(off + np.asarray(u), 1.5) / corner_jacobians(off, 1.5)).min(axis=0)[inside].min()
    assert float(jac) == pytest.approx(ref, rel=1e-10)


def test_smoothing_puts_the_boundary_of_a_voxel_sphere_on_a_sphere():
    """`smooth_mesh`: the boundary nodes of a voxel sphere (R = 10 mm, 1.25 mm cells) end on one smooth
    surface (the spread of their radii falls > 1.5x), every corner Jacobian stays above the floor, and the
    strain of a linear displacement field at points is still exact on the moved cells."""
    from axojax.headmodel._fe_mesh import corner_jacobians
    from axojax.headmodel._fe_model import VoxelMesh, strain_at_points
    from axojax.headmodel.mesh import smooth_mesh

    n, h = 8, 1.25
    c = (np.arange(2 * n + 4) + 0.5) * h - (n + 2) * h
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    labels = np.where(x**2 + y**2 + z**2 < (n * h) ** 2, 2, 0).astype(np.int32)
    mesh = VoxelMesh(jnp.asarray(labels), jnp.full(3, -(n + 2) * h), h, 1.0)
    smooth = smooth_mesh(mesh)
    off = np.asarray(smooth.node_offset_mm, np.float64)
    moved = np.linalg.norm(off, axis=0) > 0
    grid = np.stack(np.meshgrid(*[np.arange(m) * h - (n + 2) * h for m in off.shape[1:]], indexing="ij"))
    r_before = np.linalg.norm(grid[:, moved], axis=0)
    r_after = np.linalg.norm((grid + off)[:, moved], axis=0)
    assert moved.sum() > 100
    assert np.std(r_after) < np.std(r_before) / 1.5  # 0.56 -> 0.35 mm: the Jacobian floor stops some moves
    assert corner_jacobians(off, h).min(axis=0)[labels > 0].min() >= 0.3
    a = jnp.asarray([[0.01, 0.02, 0.0], [-0.02, 0.0, 0.03], [0.0, 0.01, -0.02]])
    u = jnp.einsum("ij,j...->i...", a, jnp.asarray(grid + off))[None]
    pts = jnp.asarray(np.random.default_rng(0).uniform(-0.9, 0.9, (50, 3)) * n * h / np.sqrt(3.0))
    e = np.asarray(strain_at_points(smooth, u, pts))[:, 0]
    ref = 0.5 * (a + a.T + a.T @ a)
    np.testing.assert_allclose(e, np.broadcast_to(np.asarray(ref), e.shape), atol=1e-6)
