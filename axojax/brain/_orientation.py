"""Fiber orientation numerics (pure jnp): the synthetic default field and tensor eigenvectors.

All directions are unit vectors in the world frame of the brain grid (RAS+, MNI mm for the default
brain): x = left -> right, y = posterior -> anterior, z = inferior -> superior. A fiber direction
and its negative are the same fiber; nothing here depends on the sign.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

# Region parameters of the synthetic field [mm, MNI RAS]. Textbook locations of three tract systems,
# not fitted
# to any subject: the field is a smooth blend of three axis-aligned families (see
# `synthetic_fiber_field`).
CC_HALF_WIDTH_MM = 12.0  # corpus callosum: Gaussian width about the mid-sagittal plane x = 0
CC_FLOOR_Z_MM = 0.0  # ... above the floor of the lateral ventricles
CST_LATERAL_MM = 24.0  # corticospinal corridor: internal capsule / corona radiata at |x| ~ 24 mm
CST_LATERAL_WIDTH_MM = 8.0
CST_CENTRE_Y_MM = -20.0  # ... posterior limb of the internal capsule, precentral corona radiata
CST_Y_WIDTH_MM = 20.0
CST_FLOOR_Z_MM = -40.0  # ... down to the cerebral peduncles
BRAINSTEM_HALF_WIDTH_MM = 8.0  # brainstem below z = -10 mm near the midline: superior-inferior as well
BRAINSTEM_TOP_Z_MM = -10.0
ASSOCIATION_LATERAL_MM = 28.0  # association tracts (SLF, arcuate, ILF, IFOF): lateral to |x| ~ 28 mm
ASSOCIATION_FRONT_BACK = 0.5  # weight of anterior-posterior outside the corticospinal band in y
BASELINE_AP = 0.05  # small anterior-posterior floor so the field is never the zero vector


def _gauss(x: Float[Array, "*vox"], centre: float, width: float) -> Float[Array, "*vox"]:
    return jnp.exp(-0.5 * ((x - centre) / width) ** 2)


def _sigmoid(x: Float[Array, "*vox"], edge: float, width: float) -> Float[Array, "*vox"]:
    return 1.0 / (1.0 + jnp.exp(-(x - edge) / width))


def synthetic_fiber_field(coords_mm: Float[Array, "*vox 3"]) -> Float[Array, "*vox 3"]:
    """Synthetic, anatomically motivated fiber directions at MNI coordinates.

    Synthetic: not measured in any subject. Three smooth region weights (Gaussians and logistic
    edges of the MNI coordinates, widths in the module constants) weight three axis directions,

        n = (w_cc e_x + w_ap e_y + w_cst e_z) / |...|,

    - w_cc: left-right near the mid-sagittal plane above the ventricles (corpus callosum);
    - w_cst: superior-inferior in the corticospinal corridor lateral to the midline (internal
      capsule, corona radiata) and in the brainstem;
    - w_ap: anterior-posterior laterally (association tracts: SLF/arcuate, ILF, IFOF) and in front
      of and behind the corticospinal band, plus a small floor everywhere.

    Between regions the direction turns smoothly. Checked against dipy's `minimal_bundles`
    (docs/brain.md).

    Args:
        coords_mm: voxel centres [mm], MNI RAS+ frame.

    Returns:
        Unit fiber directions [-], same frame, same dtype as `coords_mm`.
    """
    x, y, z = coords_mm[..., 0], coords_mm[..., 1], coords_mm[..., 2]
    ax = jnp.abs(x)
    w_cc = _gauss(x, 0.0, CC_HALF_WIDTH_MM) * _sigmoid(z, CC_FLOOR_Z_MM, 4.0)
    band_y = _gauss(y, CST_CENTRE_Y_MM, CST_Y_WIDTH_MM)
    w_cst = _gauss(ax, CST_LATERAL_MM, CST_LATERAL_WIDTH_MM) * band_y * _sigmoid(z, CST_FLOOR_Z_MM, 5.0)
    w_cst = w_cst + _gauss(x, 0.0, BRAINSTEM_HALF_WIDTH_MM) * _sigmoid(-z, -BRAINSTEM_TOP_Z_MM, 4.0)
    w_ap = _sigmoid(ax, ASSOCIATION_LATERAL_MM, 5.0) + ASSOCIATION_FRONT_BACK * (1.0 - band_y) + BASELINE_AP
    field = jnp.stack([w_cc, w_ap, w_cst], axis=-1)
    return field / jnp.linalg.norm(field, axis=-1, keepdims=True)


def tensor6_to_matrix(tensor: Float[Array, "*vox 6"]) -> Float[Array, "*vox 3 3"]:
    """Symmetric 3x3 tensors from 6 components in FSL dtifit order (Dxx, Dxy, Dxz, Dyy, Dyz, Dzz).

    Args:
        tensor: upper-triangle components, row by row [any unit, e.g. mm^2/s].

    Returns:
        The full symmetric matrices [same unit].
    """
    dxx, dxy, dxz, dyy, dyz, dzz = (tensor[..., i] for i in range(6))
    rows = [
        jnp.stack([dxx, dxy, dxz], axis=-1),
        jnp.stack([dxy, dyy, dyz], axis=-1),
        jnp.stack([dxz, dyz, dzz], axis=-1),
    ]
    return jnp.stack(rows, axis=-2)


def principal_eigenvector(tensor: Float[Array, "*vox 6"]) -> Float[Array, "*vox 3"]:
    """Principal eigenvector (largest eigenvalue) of FSL-order tensors, via `jnp.linalg.eigh`.

    Args:
        tensor: Dxx, Dxy, Dxz, Dyy, Dyz, Dzz [any unit].

    Returns:
        Unit eigenvectors [-] in the frame of the tensor components; the sign is arbitrary.
    """
    _, vecs = jnp.linalg.eigh(tensor6_to_matrix(tensor))
    return vecs[..., :, -1]
