"""Closed-form strain kinematics of the reduced head model (pure jnp).

The spatial mode: a twist of the brain about a fixed axis n. A brain point at r = x - c (mm from the
brain centre c) rotates relative to the skull by the angle

    φ(x) = |θ| q(x),    q(x) = Σ_i (r_i / s_i)^2   (q = 1 on the ellipsoid with semi-axes s),

where θ is the relative rotation vector (rad, direction n) of the brain periphery. The displacement
is u = (R(φ(x) n) - I) r. Because the axis is the same at every point,
F = I + ∇u = R (I + a ⊗ b) with a = θ × r [mm] and b = ∇q = 2 r / s^2 [1/mm], so exactly

    E = ½ (FᵀF - I) = ½ (a ⊗ b + b ⊗ a) + ½ |a|^2 b ⊗ b,

which is polynomial in θ (smooth, rotation-free, zero at θ = 0). Where a ⊥ b (a spherical brain)
this is simple shear of amount γ = |a| |b| = 2 |θ| ρ^2 sin ψ (ρ^2 = q, ψ the angle between r and n),
growing away from the rotation axis and toward the periphery.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

__all__ = [
    "green_lagrange",
    "rotation_matrix",
    "twist_displacement",
    "twist_strain",
    "twist_strain_history",
    "max_principal_strain",
]


def green_lagrange(deformation_gradient: Float[Array, "*batch 3 3"]) -> Float[Array, "*batch 3 3"]:
    """E = ½ (FᵀF - I) [-] from the deformation gradient F [-]."""
    f = deformation_gradient
    c = jnp.einsum("...ki,...kj->...ij", f, f)
    return 0.5 * (c - jnp.eye(3, dtype=f.dtype))


def rotation_matrix(rotvec: Float[Array, " 3"]) -> Float[Array, "3 3"]:
    """Rodrigues rotation matrix of a rotation vector [rad], smooth at zero (series branch)."""
    ang2 = jnp.dot(rotvec, rotvec)
    small = ang2 < 1e-8
    safe2 = jnp.where(small, 1.0, ang2)
    ang = jnp.sqrt(safe2)
    sinc = jnp.where(small, 1.0 - ang2 / 6.0, jnp.sin(ang) / ang)
    cosc = jnp.where(small, 0.5 - ang2 / 24.0, (1.0 - jnp.cos(ang)) / safe2)
    x, y, z = rotvec
    zero = jnp.zeros_like(x)
    k = jnp.stack([jnp.stack([zero, -z, y]), jnp.stack([z, zero, -x]), jnp.stack([-y, x, zero])])
    return jnp.eye(3, dtype=rotvec.dtype) + sinc * k + cosc * (k @ k)


def twist_displacement(
    theta_rad: Float[Array, " 3"],
    r_mm: Float[Array, " 3"],
    semi_axes_mm: Float[Array, " 3"],
) -> Float[Array, " 3"]:
    """Exact displacement u = (R(q(r) θ) - I) r [mm] of the twist mode (reference for tests).

    Args:
        theta_rad: rotation vector of the periphery relative to the skull [rad].
        r_mm: position relative to the brain centre [mm].
        semi_axes_mm: semi-axes of the brain ellipsoid [mm].
    """
    q = jnp.sum((r_mm / semi_axes_mm) ** 2)
    return rotation_matrix(q * theta_rad) @ r_mm - r_mm


def twist_strain(
    theta_rad: Float[Array, " 3"],
    r_mm: Float[Array, " 3"],
    semi_axes_mm: Float[Array, " 3"],
) -> Float[Array, "3 3"]:
    """Green–Lagrange strain [-] of the twist mode at one point, closed form (module docstring).

    Args:
        theta_rad: rotation vector of the periphery relative to the skull [rad].
        r_mm: position relative to the brain centre [mm].
        semi_axes_mm: semi-axes of the brain ellipsoid [mm].
    """
    a = jnp.cross(theta_rad, r_mm)
    b = 2.0 * r_mm / semi_axes_mm**2
    ab = jnp.outer(a, b)
    return 0.5 * (ab + ab.T) + 0.5 * jnp.dot(a, a) * jnp.outer(b, b)


def twist_strain_history(
    theta_rad: Float[Array, "time 3"],
    r_mm: Float[Array, "vox 3"],
    semi_axes_mm: Float[Array, " 3"],
) -> Float[Array, "vox time 3 3"]:
    """`twist_strain` over voxels and times (vmapped) [-]."""
    per_time = jax.vmap(twist_strain, in_axes=(0, None, None))
    return jax.vmap(per_time, in_axes=(None, 0, None))(theta_rad, r_mm, semi_axes_mm)


def max_principal_strain(strain: Float[Array, "*batch 3 3"]) -> Float[Array, "*batch"]:
    """Largest eigenvalue of a symmetric strain tensor [-] (maximum principal strain, MPS)."""
    return jnp.linalg.eigvalsh(strain)[..., -1]
