"""Fiber strain: projection of Green-Lagrange strain tensors on fiber directions (pure jnp).

For a unit fiber direction n in the reference configuration and Green-Lagrange strain
E = (F^T F - I) / 2, the fiber (Green-Lagrange) strain is eps_f = n^T E n and the fiber stretch is
lambda = sqrt(1 + 2 eps_f).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


def project_strain(
    strain: Float[Array, "*vox time 3 3"], fiber_dir: Float[Array, "*vox 3"]
) -> Float[Array, "*vox time"]:
    """Green-Lagrange fiber strain eps_f(t) = n^T E(t) n.

    Args:
        strain: Green-Lagrange strain tensors [-], symmetric, world frame.
        fiber_dir: unit fiber direction [-], same frame.

    Returns:
        Fiber strain [-] (a fraction: 0.05 = 5 %).

    >>> import jax.numpy as jnp
    >>> E = jnp.zeros((1, 3, 3)).at[0, 0, 0].set(0.1)
    >>> round(float(project_strain(E, jnp.array([1.0, 0.0, 0.0]))[0]), 6)
    0.1
    """
    return jnp.einsum("...i,...tij,...j->...t", fiber_dir, strain, fiber_dir)


def project_strain_populations(
    strain: Float[Array, "*vox time 3 3"], fiber_dir: Float[Array, "*vox k 3"]
) -> Float[Array, "*vox time k"]:
    """Fiber strain of each of K fiber populations, eps_k(t) = n_k^T E(t) n_k.

    Args:
        strain: Green-Lagrange strain tensors [-].
        fiber_dir: unit directions of the K populations [-].

    Returns:
        Fiber strain per population [-].
    """
    return jnp.einsum("...ki,...tij,...kj->...tk", fiber_dir, strain, fiber_dir)


def project_strain_weighted(
    strain: Float[Array, "*vox time 3 3"],
    fiber_dir: Float[Array, "*vox k 3"],
    fiber_weight: Float[Array, "*vox k"],
) -> Float[Array, "*vox time"]:
    """Weighted mean fiber strain over K populations, sum_k w_k n_k^T E n_k.

    Args:
        strain: Green-Lagrange strain tensors [-].
        fiber_dir: unit directions of the K populations [-].
        fiber_weight: population weights summing to 1 per voxel [-] (as in `axojax.brain.Brain`).

    Returns:
        Fiber strain [-].
    """
    return jnp.einsum("...tk,...k->...t", project_strain_populations(strain, fiber_dir), fiber_weight)


def fiber_stretch_minus_one(fiber_strain: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """Fiber stretch minus one, lambda - 1 = sqrt(1 + 2 eps_f) - 1 (engineering fiber strain).

    Args:
        fiber_strain: Green-Lagrange fiber strain eps_f [-], > -0.5.

    Returns:
        lambda - 1 [-]. Raises at run time (`eqx.error_if`) where 1 + 2 eps_f <= 0.
    """
    arg = 1.0 + 2.0 * fiber_strain
    arg = eqx.error_if(arg, jnp.any(arg <= 0), "fiber stretch must stay positive (fiber strain > -0.5)")
    return jnp.sqrt(arg) - 1.0
