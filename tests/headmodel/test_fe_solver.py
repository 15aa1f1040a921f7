"""Verification of the explicit FE solver against independent truths (closed forms, an independent element
integration, conservation laws). Small meshes; float64 unless a test says otherwise."""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from fe_helpers import jagged_labels, tables

from axojax.headmodel import _fe_solver as fe
from axojax.headmodel._fe_mesh import boundary_area_vectors, skull_distance
from axojax.headmodel._fe_model import VoxelMesh, skull_layer


def sphere_labels(n):
    """Voxel sphere of radius 1 with n elements per radius (label 2), one empty layer around; (labels, h, origin)."""
    h = 1.0 / n
    m = 2 * n + 2
    c = (np.arange(m) + 0.5) * h - (n + 1) * h
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    return np.where(x**2 + y**2 + z**2 < 1.0, 2, 0).astype(np.int32), h, -(n + 1) * h


def zero_loads(dtype):
    z = jnp.zeros(3, dtype)
    return fe.Loads(ang_vel=z, ang_acc=z, lin_acc=z)


# --- element technology -------------------------------------------------------------------------------------


def _independent_bbar(h, shear, bulk):
    """24x24 small-strain stiffness of a cube: deviatoric part by 2x2x2 Gauss quadrature, volumetric part at
    the centre (selective-reduced integration), written from the textbook definitions (dof 3 a + i)."""
    nodes = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))

    def dndx(xi):
        return np.array(
            [nodes[a] * np.prod(1 + nodes[a] * xi) / (1 + nodes[a] * xi) / 8 for a in range(8)]
        ) * (2 / h)

    def bmat(xi):
        d = dndx(xi)
        b = np.zeros((3, 3, 24))  # strain[i, j] per dof
        for a in range(8):
            for i in range(3):
                for j in range(3):
                    b[i, j, 3 * a + i] += 0.5 * d[a, j]
                    b[j, i, 3 * a + i] += 0.5 * d[a, j]
        return b

    k = np.zeros((24, 24))
    g = 1 / np.sqrt(3)
    for xi in itertools.product((-g, g), repeat=3):
        b = bmat(np.array(xi))
        dev = b - np.einsum("kkd->d", b)[None, None, :] * np.eye(3)[:, :, None] / 3
        k += 2 * shear * np.einsum("ijd,ije->de", dev, dev) * (h / 2) ** 3
    b0 = bmat(np.zeros(3))
    vol = np.einsum("kkd->d", b0)
    k += bulk * np.outer(vol, vol) * h**3
    return k


def test_element_is_the_selective_reduced_hexahedron():
    """One-point integration + the hourglass term = B-bar cube (deviatoric 2x2x2, volumetric 1 point)."""
    h, shear, bulk = 2.0, 1.3, 7.0
    tab = tables(g_inf=shear, bulk=bulk)
    labels = jnp.full((1, 1, 1), 2, jnp.int32)
    fields = fe.element_fields(labels, tab, jnp.zeros(3), jnp.zeros(3), h)
    state0 = fe.init_state(labels, 1, jnp.float64)

    def forces(u):
        return fe.internal_forces(fields, eqx.tree_at(lambda s: s.u, state0, u), jnp.asarray(1.0))[0]

    k = -np.asarray(jax.jit(jax.jacfwd(forces))(state0.u)).reshape(24, 24)
    perm = np.array([i * 8 + a for a in range(8) for i in range(3)])  # (i, node) -> 3 node + i
    np.testing.assert_allclose(k[np.ix_(perm, perm)], _independent_bbar(h, shear, bulk), atol=1e-12)


# --- patch test and objectivity ------------------------------------------------------------------------------




@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_patch_test_uniform_deformation_is_exact(dtype):
    """A linear displacement field on a jagged multi-material mesh: constant strain, no interior force."""
    labels = jnp.asarray(jagged_labels())
    h = 1.5
    a = jnp.asarray([[0.05, 0.02, -0.01], [0.0, -0.03, 0.04], [0.01, 0.0, 0.02]], dtype)
    fields = fe.element_fields(labels, tables(dtype=dtype), jnp.zeros(3, dtype), jnp.zeros(3, dtype), h)
    x = fields.positions
    u = jnp.einsum("ij,j...->i...", a, x)
    state = eqx.tree_at(lambda s: s.u, fe.init_state(labels, 1, dtype), u)
    grad, q = jax.jit(fe.element_gradients, static_argnums=1)(u, h)
    f, _ = jax.jit(fe.internal_forces)(fields, state, jnp.asarray(1.0, dtype))
    deform = np.asarray(fe.deformable_mask(labels))
    tol = 1e-12 if dtype == jnp.float64 else 1e-6
    np.testing.assert_allclose(
        np.asarray(grad)[:, :, deform],
        np.broadcast_to(np.asarray(a)[:, :, None], (3, 3, deform.sum())),
        atol=tol,
    )
    assert float(jnp.max(jnp.abs(q))) < tol
    free = np.asarray(fields.inv_mass) > 0
    assert free.sum() > 10
    scale = float(jnp.max(jnp.abs(f)))
    assert scale > 0  # the boundary carries the load
    assert float(jnp.max(jnp.abs(np.asarray(f)[:, free]))) <= 1e3 * tol * scale


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_rigid_rotation_gives_zero_strain_and_force(dtype):
    """Objectivity: a 50-degree rigid rotation of the whole mesh strains nothing."""
    labels = jnp.asarray(jagged_labels(1))
    ang = np.deg2rad(50.0)
    n = np.array([1.0, 2.0, 2.0]) / 3.0
    k = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    rot = np.eye(3) + np.sin(ang) * k + (1 - np.cos(ang)) * k @ k
    fields = fe.element_fields(labels, tables(dtype=dtype), jnp.zeros(3, dtype), jnp.zeros(3, dtype), 2.0)
    u = jnp.einsum("ij,j...->i...", jnp.asarray(rot - np.eye(3), dtype), fields.positions)
    grad, _ = jax.jit(fe.element_gradients, static_argnums=1)(u, 2.0)
    strain = fe.green_lagrange_from_grad(grad)
    tol = 1e-12 if dtype == jnp.float64 else 2e-6
    assert float(jnp.max(jnp.abs(strain))) < tol
    state = eqx.tree_at(lambda s: s.u, fe.init_state(labels, 1, dtype), u)
    f, _ = jax.jit(fe.internal_forces)(fields, state, jnp.asarray(1.0, dtype))
    assert float(jnp.max(jnp.abs(f))) < 10 * tol * 10.0 * 8.0  # K = 10, V = 8: stress ~ K strain


# --- dynamics ------------------------------------------------------------------------------------------------


def _run(fields, state, dt, n, loads):
    def body(s, _):
        s2 = fe.step(fields, s, loads, dt)
        return s2, (s2.u, s2.v)

    return jax.lax.scan(body, state, None, length=n)


def _sphere_fields(n, tab, layer):
    """A voxel sphere's fields, tied to the skull (layer None) or held by a massless sliding layer of
    stiffness (k_n, k_t) per area on a 0.1-thick smooth skull; (labels, h, origin, fields)."""
    labels_np, h, o = sphere_labels(n)
    labels = jnp.asarray(labels_np)
    if layer is None:
        return labels, h, o, fe.element_fields(labels, tab, jnp.full(3, o), jnp.zeros(3), h)
    stiff = fe.Interface(jnp.asarray(layer[0]), jnp.asarray(layer[1]), jnp.asarray(0.0))
    geometry = skull_layer(VoxelMesh(labels, jnp.full(3, o), h, 0.1), jnp.float64)
    return labels, h, o, fe.element_fields(labels, tab, jnp.full(3, o), jnp.zeros(3), h, stiff, geometry)


@pytest.mark.parametrize("layer", [False, True], ids=["tied", "sliding-layer"])
def test_undamped_elastic_model_conserves_energy(layer):
    """Leapfrog energy drift <= 1 %, with the boundary tied or held by the (nonlinear) sliding layer."""
    tab = tables(g_inf=1.0, bulk=20.0)
    labels, h, o, fields = _sphere_fields(4, tab, (20.0, 0.5) if layer else None)
    # the leapfrog energy error is O(dt^2)
    dt = 0.5 * fe.critical_step(fields, fe.stable_time_step(tab, jnp.asarray([2]), h))
    x = fields.positions
    free = (fields.inv_mass > 0).astype(jnp.float64)[None]
    v0 = 0.05 * jnp.stack([jnp.sin(3 * x[1]), x[0] * x[2], jnp.cos(2 * x[0]) * x[1]]) * free
    state = eqx.tree_at(lambda s: s.v, fe.init_state(labels, 1, jnp.float64), v0)
    n = 400
    _, (us, vs) = jax.jit(lambda s: _run(fields, s, dt, n, zero_loads(jnp.float64)))(state)
    # energy at step k: strain energy of u_k, kinetic energy of the mean of the two half-step velocities
    vmid = 0.5 * (vs[:-1] + vs[1:])
    pot = jax.jit(jax.vmap(lambda u: fe.strain_energy(fields, u)))(us[:-1])
    kin = jax.jit(jax.vmap(lambda v: fe.kinetic_energy(labels, tab.density, h, v)))(vmid)
    total = np.asarray(pot + kin)
    assert float(jnp.max(pot)) > 0.2 * total[0]  # energy really moves between the two forms
    drift = np.max(np.abs(total - total[0])) / total[0]
    assert drift <= 0.01


def _mode_frequency(n, nu=0.45):
    """Fundamental torsional frequency of a voxel sphere (fixed surface), over the closed form."""
    labels_np, h, o = sphere_labels(n)
    labels = jnp.asarray(labels_np)
    k_mod = 2 * (1 + nu) / (3 * (1 - 2 * nu))
    tab = tables(g_inf=1.0, bulk=k_mod)  # G = rho = R = 1: c_s = 1
    fields = fe.element_fields(labels, tab, jnp.full(3, o), jnp.zeros(3), h)
    dt = 0.9 * fe.stable_time_step(tab, jnp.asarray([2]), h)
    x = fields.positions
    r = jnp.linalg.norm(x, axis=0)
    kr = 4.4934 * r
    j1 = jnp.where(kr > 1e-8, jnp.sin(kr) / kr**2 - jnp.cos(kr) / jnp.where(kr > 1e-8, kr, 1.0), kr / 3)
    mode = (j1 / jnp.where(r > 0, r, 1.0))[None] * jnp.stack([-x[1], x[0], jnp.zeros_like(r)])
    mode = mode * (fields.inv_mass > 0).astype(jnp.float64)[None]
    state = eqx.tree_at(lambda s: s.v, fe.init_state(labels, 1, jnp.float64), 1e-4 * mode)
    period = 2 * np.pi / 4.4934
    steps = int(3 * period / float(dt))
    _, (us, _) = jax.jit(lambda s: _run(fields, s, dt, steps, zero_loads(jnp.float64)))(state)
    amp = np.asarray(jnp.einsum("tiabc,iabc->t", us, mode))
    t = (np.arange(steps) + 1) * float(dt)
    omegas = np.linspace(0.85, 1.15, 3001) * 4.4934
    res = [
        np.linalg.lstsq(np.stack([np.sin(w * t), np.cos(w * t)], 1), amp, rcond=None)[1][0] for w in omegas
    ]
    return omegas[int(np.argmin(res))] / 4.4934


def test_torsional_mode_of_a_sphere_converges_to_the_closed_form():
    """f = 4.4934 c_s / (2 pi R), first root of j_1 (fixed surface): within 3 % on the finest mesh, and the
    error shrinks with refinement."""
    ratios = [_mode_frequency(n) for n in (8, 11, 14)]
    errors = [abs(r - 1) for r in ratios]
    assert errors[-1] <= 0.03
    assert errors[0] > errors[1] > errors[2]


def test_prony_relaxation_matches_the_closed_form():
    """Uniform simple-shear ramp to gamma over t_r, then held: S_xy = gamma (G_inf + G_1 (e^-b(t-t_r) - e^-bt)/(b t_r))."""
    g_inf, g1, beta = 1.0, 4.0, 0.5
    tab = tables(g_inf=g_inf, g1=g1, beta=beta, bulk=50.0)
    labels = jnp.full((1, 1, 1), 2, jnp.int32)
    fields = fe.element_fields(labels, tab, jnp.zeros(3), jnp.zeros(3), 1.0)
    gamma, t_r, dt = 1e-5, 1.0, 0.05
    times = np.arange(1, 201) * dt
    x = fields.positions

    def body(state, t):
        g = gamma * jnp.minimum(t / t_r, 1.0)
        u = jnp.stack([g * x[1], jnp.zeros_like(x[0]), jnp.zeros_like(x[0])])
        _, stress, _, new = fe.element_stress(fields, eqx.tree_at(lambda s: s.u, state, u), jnp.asarray(dt))
        return new, stress[0, 1, 0, 0, 0]

    _, sxy = jax.lax.scan(body, fe.init_state(labels, 1, jnp.float64), jnp.asarray(times))
    t = times
    ramp = t <= t_r
    exact = np.where(
        ramp,
        gamma / t_r * (g_inf * t + g1 * (1 - np.exp(-beta * t)) / beta),
        gamma * (g_inf + g1 * (np.exp(-beta * (t - t_r)) - np.exp(-beta * t)) / (beta * t_r)),
    )
    # simple shear gamma: E_xy = gamma / 2, so S_xy = 2 G E_xy = G gamma at small strain (O(gamma) error)
    np.testing.assert_allclose(np.asarray(sxy), exact, rtol=1e-4)


def _linear_operator(fields, labels):
    """v -> K v (the assembled small-strain stiffness on the free nodes), matrix-free."""
    state0 = fe.init_state(labels, 1, jnp.float64)
    free = (fields.inv_mass > 0).astype(jnp.float64)[None]

    def forces(u):
        return fe.internal_forces(fields, eqx.tree_at(lambda s: s.u, state0, u), jnp.asarray(1.0))[0]

    def op(v):
        return -jax.jvp(forces, (state0.u,), (v * free,))[1] * free

    return op, free


def _static_twist(n, alpha=1e-4, rho=1.0, g=1.0):
    """Elastic static solution under the body force -rho alpha (z x r), by conjugate gradients."""
    labels_np, h, o = sphere_labels(n)
    labels = jnp.asarray(labels_np)
    tab = tables(g_inf=g, bulk=10.0, rho=rho)
    fields = fe.element_fields(labels, tab, jnp.full(3, o), jnp.zeros(3), h)
    op, free = _linear_operator(fields, labels)
    x = fields.positions
    mass = fe.node_mass(labels, tab.density, h)[None]
    load = -mass * alpha * jnp.stack([-x[1], x[0], jnp.zeros_like(x[0])]) * free
    u, _ = jax.jit(lambda b: jax.scipy.sparse.linalg.cg(op, b, tol=1e-10, maxiter=2000))(load)
    r2 = jnp.sum(x**2, axis=0)
    exact = (rho * alpha * (r2 - 1.0) / (10 * g))[None] * jnp.stack([-x[1], x[0], jnp.zeros_like(r2)]) * free
    return labels, h, o, u, exact


def test_static_twist_of_a_sphere_converges_to_the_closed_form():
    """Quasi-static elastic twist under a constant rotational acceleration: u = rho alpha (r^2 - R^2)/(10 G) (z x r).
    The voxel boundary (nodes of the staircase fixed) makes the error first order in h; it must shrink."""
    errors = []
    for n in (4, 6, 8):
        *_, u, exact = _static_twist(n)
        errors.append(abs(float(jnp.sum(u * exact) / jnp.sum(exact * exact)) - 1.0))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.18  # 0.20 / 0.18 / 0.16 at n = 4 / 6 / 8, 0.12 at n = 12


def test_sphere_under_a_step_rotation_settles_to_the_elastic_result():
    """Skull with constant angular acceleration alpha about z (a step in alpha, from rest): the viscoelastic
    sphere (G_0 = 4 G_inf) comes to rest at the elastic static solution with G_inf."""
    labels, h, o, u_static, _ = _static_twist(6)
    alpha = 1e-4
    tab = tables(g_inf=1.0, g1=3.0, beta=1.0, bulk=10.0)
    fields = fe.element_fields(labels, tab, jnp.full(3, o), jnp.zeros(3), h)
    dt = 0.9 * fe.stable_time_step(tab, jnp.asarray([2]), h)
    steps = int(40.0 / float(dt))

    def body(state, k):
        t = k * dt
        loads = fe.Loads(
            ang_vel=jnp.asarray([0.0, 0.0, 1.0]) * alpha * t,
            ang_acc=jnp.asarray([0.0, 0.0, alpha]),
            lin_acc=jnp.zeros(3),
        )
        return fe.step(fields, state, loads, dt), None

    final, _ = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(steps, dtype=jnp.float64)))(
        fe.init_state(labels, 1, jnp.float64)
    )
    # the centrifugal part (omega grows to 4e-3) adds a field radial in the xy-plane: compare the twist
    # x u_y - y u_x, to which a radial field contributes nothing
    x = fields.positions

    def twist(u):
        return x[0] * u[1] - x[1] * u[0]

    err = float(jnp.linalg.norm(twist(final.u) - twist(u_static)) / jnp.linalg.norm(twist(u_static)))
    assert err < 0.01


def test_stable_time_step_bounds_the_mesh_frequency():
    """Power iteration on the assembled sphere: its largest frequency lies below the element bound."""
    labels_np, h, o = sphere_labels(4)
    labels = jnp.asarray(labels_np)
    tab = tables(g_inf=1.0, bulk=30.0)
    fields = fe.element_fields(labels, tab, jnp.full(3, o), jnp.zeros(3), h)
    op, free = _linear_operator(fields, labels)

    @jax.jit
    def power(v):
        def body(_, v):
            w = op(v) * fields.inv_mass[None]
            return w / jnp.linalg.norm(w)

        v = jax.lax.fori_loop(0, 400, body, v)
        return jnp.sum(op(v) * fields.inv_mass[None] * v) / jnp.sum(v * v)

    lam = float(
        power(jax.random.normal(jax.random.PRNGKey(0), free.shape[:0] + (3, *fields.inv_mass.shape)) * free)
    )
    dt_mesh = 2 / np.sqrt(lam)
    dt_bound = float(fe.stable_time_step(tab, jnp.asarray([2]), h))
    assert dt_bound <= dt_mesh
    assert dt_bound > 0.5 * dt_mesh  # not uselessly conservative


@pytest.mark.parametrize("layer", [False, True], ids=["tied", "sliding-layer"])
def test_assembled_critical_step_is_the_mesh_eigenvalue_and_the_stability_limit(layer):
    """Lanczos step = 2 / sqrt(largest eigenvalue of M^-1 K) of the dense assembled stiffness (jacfwd,
    independent of the Lanczos code) to 1e-6; it is longer than the element bound; and it is the real
    stability limit: an undamped leapfrog run at 0.98 of it stays bounded, at 1.05 of it blows up."""
    tab = tables(g_inf=1.0, bulk=30.0, g1=2.0, beta=0.5)  # a Prony term: the step must use G_0 = 3
    labels, h, o, fields = _sphere_fields(3, tab, (200.0, 2.0) if layer else None)
    dt_lanczos, rel = fe.assembled_critical_step(fields)
    dt_lanczos = float(dt_lanczos)
    assert float(rel) < 1e-6

    inst = fe.instantaneous_fields(fields)
    op, free = _linear_operator(inst, labels)
    dofs = np.flatnonzero(np.broadcast_to(np.asarray(free), free.shape[:0] + (3, *fields.inv_mass.shape)))
    n_all = 3 * fields.inv_mass.size

    def op_flat(x):
        return op(jnp.zeros(n_all).at[dofs].set(x).reshape(3, *fields.inv_mass.shape)).reshape(-1)[dofs]

    k_dense = np.asarray(jax.jit(jax.jacfwd(op_flat))(jnp.zeros(dofs.size)))
    w = np.sqrt(
        np.broadcast_to(np.asarray(fields.inv_mass)[None], (3, *fields.inv_mass.shape)).reshape(-1)[dofs]
    )
    lam = np.linalg.eigvalsh(0.5 * (k_dense + k_dense.T) * w[:, None] * w[None, :])[-1]
    assert dt_lanczos == pytest.approx(2.0 / np.sqrt(lam), rel=1e-6)
    element = float(fe.critical_step(fields, fe.stable_time_step(tab, jnp.asarray([2]), h)))
    assert dt_lanczos > 1.1 * element

    # stability at the limit: elastic (no relaxation), tiny random start so the run stays linear
    elastic = fe.element_fields(
        labels,
        tables(g_inf=3.0, bulk=30.0),
        jnp.full(3, o),
        jnp.zeros(3),
        h,
        *((fields.stiffness, fields.layer) if layer else ()),
    )
    u0 = 1e-6 * jax.random.normal(jax.random.PRNGKey(1), fields.positions.shape) * free
    state = eqx.tree_at(lambda s: s.u, fe.init_state(labels, 1, jnp.float64), u0)
    run = jax.jit(lambda dt: jnp.max(jnp.abs(_run(elastic, state, dt, 1000, zero_loads(jnp.float64))[0].u)))
    assert float(run(0.98 * dt_lanczos)) < 1e-4
    blown = float(run(1.05 * dt_lanczos))
    assert not blown < 1.0  # grown by > 1e6 (or overflowed to inf / NaN)


def test_min_corner_jacobian_against_the_trilinear_shape_functions():
    """Corner Jacobians from edge differences = det F from the trilinear shape-function gradients evaluated
    at each corner (numpy, written independently) on a random field; a uniform stretch gives its product
    exactly; cells outside `deform` are ignored."""
    rng = np.random.default_rng(0)
    nx, ny, nz, h = 4, 3, 5, 1.5
    u = 0.4 * h * rng.standard_normal((3, nx + 1, ny + 1, nz + 1))
    deform = (rng.random((nx, ny, nz)) < 0.7).astype(np.float64)
    nodes = np.array(list(itertools.product((0, 1), repeat=3)))
    best = np.inf
    for i, j, k in itertools.product(range(nx), range(ny), range(nz)):
        if not deform[i, j, k]:
            continue
        ue = np.stack([u[:, i + a, j + b, k + c] for a, b, c in nodes])  # (8, 3)
        for corner in nodes:
            # dN_a/dX at the corner xi = corner (in [0, 1]^3), N_a = prod(1 - |xi - a|)
            grad_n = np.zeros((8, 3))
            for n_i, a in enumerate(nodes):
                w = [1.0 - abs(corner[d] - a[d]) for d in range(3)]
                for d in range(3):
                    grad_n[n_i, d] = (2 * a[d] - 1) / h * np.prod([w[e] for e in range(3) if e != d])
            best = min(best, np.linalg.det(np.eye(3) + ue.T @ grad_n))
    got = float(fe.min_corner_jacobian(jnp.asarray(u), h, jnp.asarray(deform)))
    assert got == pytest.approx(best, rel=1e-12, abs=1e-12)
    x = fe.node_positions((nx + 1, ny + 1, nz + 1), jnp.zeros(3), h)
    stretch = jnp.asarray([0.5, 1.2, 0.9])[:, None, None, None]
    uniform = float(fe.min_corner_jacobian((stretch - 1.0) * x, h, jnp.ones((nx, ny, nz))))
    assert uniform == pytest.approx(0.5 * 1.2 * 0.9, rel=1e-12)


# --- the subarachnoid interface -----------------------------------------------------------------------------
# --- the subarachnoid interface -----------------------------------------------------------------------------


def test_boundary_area_vectors_close_a_voxel_surface():
    """The nodal area vectors of any voxel region close (sum 0) and obey the divergence theorem,
    sum a . X = closed integral of x . n dA = 3 V, exactly (x . n is linear on each face)."""
    rng = np.random.default_rng(3)
    lab = (rng.random((7, 6, 8)) < 0.6).astype(np.int32) * 2
    lab[0], lab[-1], lab[:, 0], lab[:, -1], lab[:, :, 0], lab[:, :, -1] = 0, 0, 0, 0, 0, 0
    h = 1.7
    area = jnp.asarray(boundary_area_vectors(lab > 0, h))
    x = fe.node_positions(tuple(s + 1 for s in lab.shape), jnp.asarray([0.3, -1.0, 2.0]), h)
    np.testing.assert_allclose(np.asarray(area).reshape(3, -1).sum(axis=1), 0.0, atol=1e-12)
    assert float(jnp.sum(area * x)) == pytest.approx(3.0 * (lab > 0).sum() * h**3, rel=1e-12)


def test_rigid_sphere_in_the_interface_rings_at_the_closed_form():
    """A stiff sphere held by the layer's tangential springs alone (k_n = k_t: no shape constraint) rocks
    about an axis at omega^2 = (tangential stiffness integral of k_t r_perp^2 dA) / I = 5 k_t / (rho R)."""
    labels_np, h, o = sphere_labels(6)
    labels = jnp.asarray(labels_np)
    tab = tables(g_inf=100.0, bulk=1000.0)  # rho = R = 1; its own torsion (44.9 rad/s) is 14x the ring
    k_t = 2.0
    stiff = fe.Interface(
        normal_stiffness=jnp.asarray(k_t), shear_stiffness=jnp.asarray(k_t), areal_density=jnp.asarray(0.0)
    )
    geometry = skull_layer(VoxelMesh(labels, jnp.full(3, o), h, 1.0), jnp.float64)
    fields = fe.element_fields(labels, tab, jnp.full(3, o), jnp.zeros(3), h, stiff, geometry)
    assert bool(jnp.all(fields.inv_mass[:, :, 0] == 0.0)) and int(jnp.sum(fields.inv_mass > 0)) > 0
    dt = 0.9 * fe.critical_step(fields, fe.stable_time_step(tab, jnp.asarray([2]), h))
    x = fields.positions
    free = (fields.inv_mass > 0).astype(jnp.float64)[None]
    rot = jnp.stack([-x[1], x[0], jnp.zeros_like(x[0])]) * free  # rigid rotation about z
    state = eqx.tree_at(lambda s: s.v, fe.init_state(labels, 1, jnp.float64), 1e-3 * rot)
    omega = np.sqrt(5.0 * k_t)
    steps = int(2.0 * 2 * np.pi / omega / float(dt))
    _, (us, _) = jax.jit(lambda s: _run(fields, s, dt, steps, zero_loads(jnp.float64)))(state)
    mass = 1.0 / jnp.where(fields.inv_mass > 0, fields.inv_mass, jnp.inf)
    theta = np.asarray(jnp.einsum("tiabc,iabc,abc->t", us, rot, mass) / jnp.sum(mass * jnp.sum(rot**2, 0)))
    t = (np.arange(steps) + 1) * float(dt)
    omegas = np.linspace(0.7, 1.3, 1201) * omega
    res = [
        np.linalg.lstsq(np.stack([np.sin(w * t), np.cos(w * t)], 1), theta, rcond=None)[1][0] for w in omegas
    ]
    assert omegas[int(np.argmin(res))] / omega == pytest.approx(1.0, abs=0.05)


def _sphere_layer(n, k_n, k_t):
    labels_np, h, o = sphere_labels(n)
    labels = jnp.asarray(labels_np)
    geometry = skull_layer(VoxelMesh(labels, jnp.full(3, o), h, 0.1), jnp.float64)
    stiff = fe.Interface(jnp.asarray(k_n), jnp.asarray(k_t), jnp.asarray(0.0))
    x = fe.node_positions(tuple(s + 1 for s in labels.shape), jnp.full(3, o), h)  # sphere centre at 0
    return labels, h, geometry, stiff, x


def test_skull_distance_of_a_voxel_sphere_is_smooth_and_lipschitz():
    """The rounded-off signed distance of a voxel sphere (radius 1, 6 cells per radius) is |x| - 1 to within
    half a cell (the staircase's own departure from the sphere) within a cell of the surface, and its
    gradient has length <= 1 (a distance is 1-Lipschitz)."""
    labels_np, h, o = sphere_labels(6)
    phi, origin, s = skull_distance(labels_np > 0, h)
    axes = [origin[d] + o + s * np.arange(phi.shape[d]) for d in range(3)]
    x, y, z = np.meshgrid(*axes, indexing="ij")
    r = np.sqrt(x**2 + y**2 + z**2)
    near = np.abs(r - 1.0) < h
    assert np.max(np.abs(phi[near] - (r[near] - 1.0))) < 0.5 * h
    grad = np.stack(np.gradient(phi, s))
    assert np.max(np.linalg.norm(grad, axis=0)[near]) <= 1.02


def test_layer_forces_are_minus_the_gradient_of_its_energy():
    """The layer is conservative: f = -dE/du exactly (float64), at a large random displacement."""
    labels, h, geometry, stiff, _ = _sphere_layer(4, 30.0, 0.7)
    u = 0.2 * jax.random.normal(jax.random.key(0), (3, *(s + 1 for s in labels.shape)), jnp.float64)
    f = fe.layer_forces(geometry, stiff, u)
    g = jax.grad(lambda uu: fe.layer_energy(geometry, stiff, uu))(u)
    np.testing.assert_allclose(np.asarray(f), -np.asarray(g), rtol=1e-10, atol=1e-12)


def test_layer_lets_the_brain_slide_along_a_curved_skull():
    """A rigid rotation (0.4 rad, ~2 cells of slip at the surface) of a voxel sphere inside its skull
    changes the nodes' normal gaps by a small fraction of a cell (the rounded staircase), where a linear
    layer (each node's staircase normal, fixed in space) sees normal displacements 5x larger: with the
    layer's normal stiffness ~1,000x its tangential one, that is the difference between sliding and
    being pulled off the surface."""
    labels, h, geometry, stiff, x = _sphere_layer(6, 1000.0, 1.0)
    c, s_ = np.cos(0.4), np.sin(0.4)
    rot = jnp.asarray([[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]])
    u = jnp.einsum("ij,j...->i...", rot, x) - x
    ub = u.reshape(3, -1)[:, geometry.node]
    g = fe.skull_gap(geometry, geometry.position + ub)[0] - geometry.phi0
    a = jnp.asarray(boundary_area_vectors(np.asarray(labels) > 0, h)).reshape(3, -1)[:, geometry.node]
    un = jnp.sum(a / jnp.linalg.norm(a, axis=0)[None] * ub, axis=0)
    rms = lambda z: float(jnp.sqrt(jnp.mean(z**2)))  # noqa: E731
    assert rms(jnp.sqrt(jnp.sum(ub**2, axis=0))) > 1.5 * h  # the surface really slides ~2 cells
    assert rms(g) < 0.15 * h
    assert rms(un) > 5.0 * rms(g)
