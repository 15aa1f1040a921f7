import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from axojax.fiberstrain import (
    fiber_stretch_minus_one,
    project_strain,
    project_strain_populations,
    project_strain_weighted,
)

TOL = {np.float32: 1e-6, np.float64: 1e-12}


def _uniaxial(stretch, transverse, n):
    """Green-Lagrange E of F = stretch n n^T + transverse (I - n n^T), per time sample."""
    nn = np.outer(n, n)
    e_axial = 0.5 * (stretch**2 - 1.0)
    e_trans = 0.5 * (transverse**2 - 1.0)
    return e_axial[:, None, None] * nn + e_trans[:, None, None] * (np.eye(3) - nn)


def _random_strain(rng, shape, scale=0.05):
    a = rng.normal(size=shape + (3, 3)) * scale
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def _random_dirs(rng, shape):
    n = rng.normal(size=shape + (3,))
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniaxial_closed_form(dtype):
    n = np.array([1.0, 2.0, 2.0]) / 3.0
    m = np.array([2.0, -1.0, 0.0]) / np.sqrt(5.0)  # m . n = 0
    theta = 0.3
    f = np.cos(theta) * n + np.sin(theta) * m
    stretch = np.linspace(1.0, 1.12, 7)
    transverse = 1.0 / np.sqrt(stretch)  # incompressible
    strain = _uniaxial(stretch, transverse, n)

    @jax.jit
    def run(strain, dirs):
        eps = project_strain(jnp.broadcast_to(strain, (3,) + strain.shape), dirs)  # (fiber, time)
        return eps, fiber_stretch_minus_one(eps)

    cast = lambda x: jnp.asarray(x, dtype=dtype)  # noqa: E731
    eps, stretch_m1 = run(cast(strain), cast(np.stack([n, m, f])))
    assert eps.dtype == dtype and eps.shape == (3, 7)
    tol = 10 * TOL[dtype]
    along, across = 0.5 * (stretch**2 - 1.0), 0.5 * (transverse**2 - 1.0)
    np.testing.assert_allclose(eps[0], along, atol=tol)  # uniaxial stretch along n: E_nn
    np.testing.assert_allclose(eps[1], across, atol=tol)  # perpendicular: the transverse component
    np.testing.assert_allclose(eps[2], np.cos(theta) ** 2 * along + np.sin(theta) ** 2 * across, atol=tol)
    np.testing.assert_allclose(stretch_m1[0], stretch - 1.0, atol=tol)
    np.testing.assert_allclose(stretch_m1[1], transverse - 1.0, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fiber_strain_between_extreme_eigenvalues(dtype):
    rng = np.random.default_rng(0)
    strain = _random_strain(rng, (2000, 4)).astype(dtype)
    n = _random_dirs(rng, (2000,)).astype(dtype)
    eps = np.asarray(jax.jit(project_strain)(jnp.asarray(strain), jnp.asarray(n)))
    assert eps.shape == (2000, 4) and eps.dtype == dtype
    eig = np.linalg.eigvalsh(strain.astype(np.float64))
    slack = 1e-7 if dtype == np.float32 else 1e-15
    assert np.all(eps >= eig[..., 0] - slack) and np.all(eps <= eig[..., -1] + slack)


def test_populations_and_weights():
    rng = np.random.default_rng(1)
    strain = jnp.asarray(_random_strain(rng, (6, 5), 0.02))
    dirs = jnp.asarray(_random_dirs(rng, (6, 2)))
    weights = jnp.asarray([[0.25, 0.75]] * 6)

    @jax.jit
    def run(strain, dirs, weights):
        per = project_strain_populations(strain, dirs)
        single = project_strain(strain, dirs[:, 1])
        mixed = project_strain_weighted(strain, dirs, weights)
        batch = jnp.stack([strain, 2.0 * strain])
        vm = jax.vmap(project_strain_weighted, in_axes=(0, None, None))(batch, dirs, weights)
        return per, single, mixed, vm

    per, single, mixed, vm = (np.asarray(x) for x in run(strain, dirs, weights))
    assert per.shape == (6, 5, 2)
    np.testing.assert_allclose(per[..., 1], single, atol=1e-12)
    np.testing.assert_allclose(mixed, 0.25 * per[..., 0] + 0.75 * per[..., 1], atol=1e-12)
    np.testing.assert_allclose(vm[1], 2.0 * mixed, atol=1e-12)


def test_gradients_float64():
    rng = np.random.default_rng(2)
    strain = jnp.asarray(_random_strain(rng, (3, 4)))
    n = jnp.asarray([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    f = jax.jit(lambda e: fiber_stretch_minus_one(project_strain(e, n)))
    check_grads(f, (strain,), order=1, modes=("rev",), eps=1e-6)


def test_stretch_rejects_compression_below_half():
    with pytest.raises(Exception, match="fiber stretch must stay positive"):
        jax.block_until_ready(jax.jit(fiber_stretch_minus_one)(jnp.asarray([0.1, -0.6])))
