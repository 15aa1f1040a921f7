"""Explicit total-Lagrangian dynamics of a voxel hexahedral mesh, written on dense grid arrays (pure jnp).

Units inside this module: length [mm], time [ms], mass [g], hence force [N] and stress [MPa]
(1 g mm / ms^2 = 1 N; 1 N / mm^2 = 1 MPa); density [g/mm^3] (1,040 kg/m^3 = 1.04e-3 g/mm^3),
angular velocity [rad/ms], angular acceleration [rad/ms^2]. `axojax.headmodel._fe_model` converts at its
edge.

The mesh is a structured grid of cubes of side h (a voxel mesh): element (i, j, k) spans nodes
(i..i+1, j..j+1, k..k+1). Every array lives on the grid's bounding box, components first so that every
operation vectorises over the grid: element fields have shape (..., nx, ny, nz), nodal vectors
(3, nx+1, ny+1, nz+1), tensors (3, 3, nx, ny, nz); the 3 x 3 algebra is unrolled into elementwise operations
(XLA fuses them into a few loops over the grid). Corner values come from array shifts and assembly
is the transpose of that gather (taken with `jax.vjp`, i.e. shifted adds), which is ~3x faster on a CPU than
gather/scatter over an element list on the 4 mm brain. Inactive cells have zero stress. Without a
subarachnoid layer, nodes that touch an inactive cell are fixed (the skull); with one (`Layer`), the
envelope's boundary nodes are held by the layer and only the falx nodes on the skull are fixed.

Element technology: one-point (centroid) integration of the full nonlinear stress, plus a stiffness-type
hourglass term that is *exactly* the hourglass part of the fully (2x2x2) integrated deviatoric stiffness of
a cube (Flanagan & Belytschko 1981 base vectors; for a parallelepiped the constant-strain and hourglass
parts decouple). In the small-strain limit the element is therefore the selective-reduced (B-bar)
hexahedron: deviatoric part fully integrated (no hourglass modes), volumetric part at one point (no
volumetric locking). The hourglass term is linear in the hourglass amplitudes, which vanish for every
linear displacement field, so rigid rotations and uniform deformations give no hourglass force.

Material: hyper-viscoelastic. Isochoric neo-Hookean with a Prony series (Simo 1987; the quasi-linear
form of LS-DYNA MAT_061 for one term):
    S = S_vol + G_inf S0 + sum_i h_i,   S0 = 2 J^(-2/3) C^-1 dev(E)   (unit-modulus isochoric stress),
    h_i(t_n+1) = a_i h_i(t_n) + G_i (1 - a_i) / (beta_i dt) (S0(t_n+1) - S0(t_n)),   a_i = exp(-beta_i dt),
exact for a strain history piecewise linear in time; S_vol = K (J - 1) J C^-1 (U = K/2 (J - 1)^2).
The hourglass forces relax with the same kernel. Strains are computed from the displacement gradient
directly (E = (H + H^T + H^T H) / 2, J - 1 from the invariants of H), so float32 keeps the small strains of a
near-incompressible brain (K/G ~ 1e5-1e6) without cancellation.

Dynamics in the skull frame (rotating with angular velocity w and acceleration a about a centre c, fixed
nodes at rest): m x'' = f_int + f_layer - m [a x r + w x (w x r) + 2 w x v + a_lin], r = X + u - c,
central difference (leapfrog) with lumped masses; the Coriolis term uses the half-step velocity.
"""

from __future__ import annotations

import functools
import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

__all__ = [
    "CORNERS",
    "HOURGLASS_BASE",
    "LabelTables",
    "ElementFields",
    "FEState",
    "element_fields",
    "element_stress",
    "internal_forces",
    "Loads",
    "hourglass_stiffness_unit",
    "element_gradients",
    "gauss_gradients",
    "centre_gradients",
    "gauss_geometry",
    "GAUSS_POINTS",
    "surface_cells",
    "nodal_forces",
    "min_corner_jacobian",
    "cell_corner_jacobians",
    "deformable_mask",
    "Interface",
    "Layer",
    "skull_gap",
    "layer_forces",
    "layer_energy",
    "critical_step",
    "assembled_critical_step",
    "instantaneous_fields",
    "free_node_mask",
    "node_mass",
    "node_positions",
    "stable_time_step",
    "init_state",
    "deforming_cells",
    "step",
    "strain_energy",
    "kinetic_energy",
    "green_lagrange_from_grad",
]

# corner a = 4 ax + 2 ay + az of a cube; signs s = 2 a - 1
CORNERS = np.array(list(itertools.product((0, 1), repeat=3)), dtype=np.int64)  # (8, 3)
_SIGNS = 2.0 * CORNERS - 1.0  # (8, 3)
# hourglass base vectors (Flanagan & Belytschko 1981): s_x s_y, s_y s_z, s_z s_x, s_x s_y s_z
HOURGLASS_BASE = np.stack(
    [
        _SIGNS[:, 0] * _SIGNS[:, 1],
        _SIGNS[:, 1] * _SIGNS[:, 2],
        _SIGNS[:, 2] * _SIGNS[:, 0],
        _SIGNS[:, 0] * _SIGNS[:, 1] * _SIGNS[:, 2],
    ]
)  # (4, 8)

# the 2 x 2 x 2 Gauss points of a cube, natural coordinates xi = s_a / sqrt(3), in corner order
GAUSS_POINTS = _SIGNS / np.sqrt(3.0)  # (8, 3)

DEFORMABLE_LABELS = (1, 2, 3, 4)  # CSF, grey matter, white matter, falx; 0 is outside (the skull)


def _full_deviatoric_stiffness_unit() -> np.ndarray:
    """24 x 24 stiffness of a unit cube, 2x2x2 Gauss integration, deviatoric law 2 dev(eps), G = 1."""
    g = 1.0 / np.sqrt(3.0)
    dev = np.zeros((6, 6))
    dev[:3, :3] = 2.0 * (np.eye(3) - 1.0 / 3.0)
    dev[3:, 3:] = np.eye(3)  # engineering shear strains
    k = np.zeros((24, 24))
    for xi in itertools.product((-g, g), repeat=3):
        xi = np.asarray(xi)
        # N_a = prod (1 + s xi) / 8 on [-1, 1]^3; dN/dX = 2 dN/dxi for a unit cube
        dn = np.empty((8, 3))
        for a in range(8):
            f = 1.0 + _SIGNS[a] * xi
            dn[a] = 2.0 * _SIGNS[a] * np.array([f[1] * f[2], f[0] * f[2], f[0] * f[1]]) / 8.0
        b = np.zeros((6, 24))
        for a in range(8):
            dx, dy, dz = dn[a]
            c = 3 * a
            b[0, c], b[1, c + 1], b[2, c + 2] = dx, dy, dz
            b[3, c], b[3, c + 1] = dy, dx  # 2 eps_xy
            b[4, c + 1], b[4, c + 2] = dz, dy  # 2 eps_yz
            b[5, c], b[5, c + 2] = dz, dx  # 2 eps_xz
        k += b.T @ dev @ b / 8.0  # Gauss weight 1, det(dX/dxi) = 1/8
    return k


def hourglass_stiffness_unit() -> np.ndarray:
    """12 x 12 hourglass stiffness K_hat in the amplitudes q[m, i] = sum_a Gamma_m(a) u_a,i (unit G, h = 1).

    K_hat = Phi^T K_dev Phi / 64 with Phi the 24 x 12 matrix of the base vectors, so that the hourglass
    energy G h q^T K_hat q / 2 equals the fully integrated deviatoric energy of every hourglass field.
    """
    phi = np.zeros((24, 12))
    for m in range(4):
        for i in range(3):
            phi[i::3, 3 * m + i] = HOURGLASS_BASE[m]
    return phi.T @ _full_deviatoric_stiffness_unit() @ phi / 64.0


_K_HAT = hourglass_stiffness_unit()
# nonzero entries (row, col, value) of K_hat, unrolled into the step
_K_HAT_NZ = [(r, c, float(_K_HAT[r, c])) for r in range(12) for c in range(12) if abs(_K_HAT[r, c]) > 1e-12]


class LabelTables(eqx.Module):
    """Material constants per element label (index = label), internal units (g/mm^3, MPa, 1/ms).

    Label 0 (outside) and rigid labels carry any value: their stress is masked out.
    """

    density: Float[Array, " label"]  # [g/mm^3]
    bulk: Float[Array, " label"]  # K [MPa]
    shear_inf: Float[Array, " label"]  # long-term shear modulus G_inf [MPa]
    shear_terms: Float[Array, "label term"]  # Prony moduli G_i [MPa]
    decay: Float[Array, "label term"]  # Prony decay rates beta_i [1/ms]
    hourglass_scale: Float[Array, ""]  # multiplier of the exact hourglass stiffness [-] (1 = B-bar)

    def shear_instantaneous(self) -> Float[Array, " label"]:
        """G_0 = G_inf + sum_i G_i [MPa]."""
        return self.shear_inf + jnp.sum(self.shear_terms, axis=-1)


class Interface(eqx.Module):
    """The subarachnoid layer's stiffness and mass per unit area (the CSF between brain and skull)."""

    normal_stiffness: Float[Array, ""]  # k_n = (K + 4/3 G) / t [MPa/mm]
    shear_stiffness: Float[Array, ""]  # k_t = G / t [MPa/mm]
    areal_density: Float[Array, ""]  # rho t [g/mm^2]


class Layer(eqx.Module):
    """Geometry of the layer that ties the brain envelope to the skull: its nodes and the skull surface.

    Node b of the envelope's boundary (area |a_b|, reference position X_b, skull-frame displacement u_b, at
    x_b = X_b + u_b) stores the layer energy
        |a_b| [k_n g_b^2 / 2 + k_t (|u_b|^2 - g_b^2) / 2],   g_b = phi(x_b) - phi(X_b),
    with phi the smooth signed distance to the skull's inner surface (`_fe_mesh.skull_distance`): g is the
    change of the node's normal gap (the layer's thickness change), |u|^2 - g^2 >= 0 (phi is 1-Lipschitz)
    its tangential slip squared. For small u it is the linear layer (k_n n n^T + k_t (I - n n^T)) with
    n = grad phi; unlike a linear spring it lets the brain slide along the curved skull (a rigid rotation
    inside a spherical skull keeps g = 0 however large): a linear spring fixed in space pulls a node that
    has slid by s off the surface by ~ s^2 / 2R, against the layer's normal stiffness ~ K / t.
    """

    node: Int[Array, " nb"]  # flat indices of the layer's nodes on the node grid
    area: Float[Array, " nb"]  # |a_b| [mm^2]
    position: Float[Array, "3 nb"]  # X_b relative to the node grid's node (0, 0, 0) [mm]
    phi0: Float[Array, " nb"]  # phi(X_b) [mm]
    phi: Float[Array, "px py pz"]  # signed distance to the skull's inner surface [mm], negative inside
    phi_origin: Float[Array, " 3"]  # position of phi[0, 0, 0] relative to node (0, 0, 0) [mm]
    phi_spacing: float = eqx.field(static=True)  # [mm]


def skull_gap(layer: Layer, x: Float[Array, "3 nb"]) -> tuple[Float[Array, " nb"], Float[Array, "3 nb"]]:
    """(phi, grad phi) at points x [mm] (node-grid frame): trilinear interpolation of `layer.phi`."""
    shape = jnp.asarray(layer.phi.shape, jnp.int32)
    xi = (x - layer.phi_origin[:, None]) / layer.phi_spacing
    base = jnp.clip(jnp.floor(xi).astype(jnp.int32), 0, (shape - 2)[:, None])
    w = jnp.clip(xi - base.astype(xi.dtype), 0.0, 1.0)  # (3, nb)
    value = jnp.zeros_like(w[0])
    grad = jnp.zeros_like(w)
    for ax, ay, az in CORNERS.tolist():
        c = layer.phi[base[0] + ax, base[1] + ay, base[2] + az]
        wx = w[0] if ax else 1.0 - w[0]
        wy = w[1] if ay else 1.0 - w[1]
        wz = w[2] if az else 1.0 - w[2]
        sx, sy, sz = (2.0 * ax - 1.0), (2.0 * ay - 1.0), (2.0 * az - 1.0)
        value = value + c * wx * wy * wz
        grad = grad + c[None] * jnp.stack([sx * wy * wz, sy * wx * wz, sz * wx * wy])
    return value, grad / layer.phi_spacing


def layer_forces(
    layer: Layer, stiffness: Interface, u: Float[Array, "3 nx1 ny1 nz1"]
) -> Float[Array, "3 nx1 ny1 nz1"]:
    """Nodal forces [N] of the layer, -dE/du (see `Layer`)."""
    flat = u.reshape(3, -1)
    ub = flat[:, layer.node]
    phi, grad = skull_gap(layer, layer.position + ub)
    g = phi - layer.phi0
    kn, kt = stiffness.normal_stiffness, stiffness.shear_stiffness
    fb = -layer.area[None] * ((kn - kt) * g[None] * grad + kt * ub)
    return jnp.zeros_like(flat).at[:, layer.node].add(fb).reshape(u.shape)


def layer_energy(layer: Layer, stiffness: Interface, u: Float[Array, "3 nx1 ny1 nz1"]) -> Float[Array, ""]:
    """Elastic energy [mJ] stored in the layer (see `Layer`)."""
    ub = u.reshape(3, -1)[:, layer.node]
    g = skull_gap(layer, layer.position + ub)[0] - layer.phi0
    kn, kt = stiffness.normal_stiffness, stiffness.shear_stiffness
    return 0.5 * jnp.sum(layer.area * (kn * g**2 + kt * (jnp.sum(ub**2, axis=0) - g**2)))


class FEState(eqx.Module):
    """State of the explicit solver at step n (velocity at n - 1/2); components first."""

    u: Float[Array, "3 nx1 ny1 nz1"]  # displacement [mm] (skull frame)
    v: Float[Array, "3 nx1 ny1 nz1"]  # velocity [mm/ms] at the previous half step
    # internal variables per cell: *cells = (nx, ny, nz), or (ne,) for fields with `cells`
    h_stress: Float[Array, "term 3 3 *cells"]  # Prony internal 2nd PK stresses [MPa]
    h_hourglass: Float[Array, "term 12 *cells"]  # Prony internal hourglass forces [MPa mm]
    s0_prev: Float[Array, "3 3 *cells"]  # unit isochoric stress S0 of the previous step [-]
    kq_prev: Float[Array, "12 *cells"]  # unit hourglass force K_hat q of the previous step [mm]
    # the same at the 8 Gauss points of the fully integrated cells (`ElementFields.gauss`; ng may be 0)
    h_gauss: Float[Array, "term 3 3 8 ng"]  # Prony internal deviatoric 2nd PK stresses [MPa]
    s0_gauss_prev: Float[Array, "3 3 8 ng"]  # unit isochoric stress S0 of the previous step [-]


class Loads(eqx.Module):
    """Rigid skull motion at one instant, RAS frame (internal units)."""

    ang_vel: Float[Array, " 3"]  # [rad/ms]
    ang_acc: Float[Array, " 3"]  # [rad/ms^2]
    lin_acc: Float[Array, " 3"]  # acceleration of the centre [mm/ms^2]


# --- unrolled 3 x 3 algebra on (3, 3, ...) arrays ---------------------------------------------------------


def _mat(rows) -> Array:
    return jnp.stack([jnp.stack(r) for r in rows])


def _mm(a: Array, b: Array) -> Array:
    """a @ b."""
    return _mat(
        [[a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + a[i, 2] * b[2, j] for j in range(3)] for i in range(3)]
    )


def _tm(a: Array, b: Array) -> Array:
    """a^T @ b."""
    return _mat(
        [[a[0, i] * b[0, j] + a[1, i] * b[1, j] + a[2, i] * b[2, j] for j in range(3)] for i in range(3)]
    )


def _trace(a: Array) -> Array:
    return a[0, 0] + a[1, 1] + a[2, 2]


def _det(a: Array) -> Array:
    return (
        a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
        - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
        + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0])
    )


def _eye_like(a: Array) -> Array:
    one, zero = jnp.ones_like(a[0, 0]), jnp.zeros_like(a[0, 0])
    return _mat([[one if i == j else zero for j in range(3)] for i in range(3)])


def _sym_inverse(c: Array, det: Array) -> Array:
    """Inverse of a symmetric 3 x 3 (adjugate / det)."""
    a00, a01, a02, a11, a12, a22 = c[0, 0], c[0, 1], c[0, 2], c[1, 1], c[1, 2], c[2, 2]
    i00 = a11 * a22 - a12 * a12
    i01 = a02 * a12 - a01 * a22
    i02 = a01 * a12 - a02 * a11
    i11 = a00 * a22 - a02 * a02
    i12 = a02 * a01 - a00 * a12
    i22 = a00 * a11 - a01 * a01
    return _mat([[i00, i01, i02], [i01, i11, i12], [i02, i12, i22]]) / det[None, None]


def _inverse(a: Array) -> Array:
    """Inverse of a general 3 x 3 on (3, 3, ...) arrays (cofactors over the determinant)."""

    def cofactor(i, j):
        i1, i2, j1, j2 = (i + 1) % 3, (i + 2) % 3, (j + 1) % 3, (j + 2) % 3
        return a[i1][j1] * a[i2][j2] - a[i1][j2] * a[i2][j1]

    cof = _mat([[cofactor(i, j) for j in range(3)] for i in range(3)])
    return jnp.swapaxes(cof, 0, 1) / _det(a)[None, None]


def _skew(a: Float[Array, " 3"]) -> Float[Array, "3 3"]:
    """[a]x, the matrix of b -> a x b."""
    z = jnp.zeros((), a.dtype)
    return jnp.stack([jnp.stack([z, -a[2], a[1]]), jnp.stack([a[2], z, -a[0]]), jnp.stack([-a[1], a[0], z])])


# --- mesh masks ---------------------------------------------------------------------------------------------


def deformable_mask(labels: Int[Array, "nx ny nz"]) -> Bool[Array, "nx ny nz"]:
    """Cells that deform (every label but 0: CSF, grey and white matter, falx)."""
    return (labels >= 1) & (labels <= 4)


def _node_any(cells: Bool[Array, "nx ny nz"], outside_box: bool = False) -> Bool[Array, "nx1 ny1 nz1"]:
    """Nodes with at least one of their 8 cells in `cells` (cells beyond the box count as `outside_box`)."""
    d = jnp.pad(cells, 1, constant_values=outside_box)
    shape = tuple(s - 1 for s in d.shape)
    out = jnp.zeros(shape, dtype=bool)
    for ax, ay, az in CORNERS:
        out = out | d[ax : ax + shape[0], ay : ay + shape[1], az : az + shape[2]]
    return out


def free_node_mask(
    labels: Int[Array, "nx ny nz"], interface: bool = False, anchor_falx: bool = True
) -> Bool[Array, "nx1 ny1 nz1"]:
    """Nodes that move. Without an interface: the nodes whose 8 cells all deform (the others are tied to
    the rigid skull). With the subarachnoid interface: every node of a deforming cell except, with
    `anchor_falx`, the falx nodes that touch the skull (the falx is a fold of the dura); without it those
    nodes hang in the layer like the rest of the envelope's boundary."""
    deform = deformable_mask(labels)
    touches_skull = _node_any(~deform, outside_box=True)
    if not interface:
        return ~touches_skull
    if not anchor_falx:
        return _node_any(deform)
    return _node_any(deform) & ~(_node_any(labels == 4) & touches_skull)


def node_mass(
    labels: Int[Array, "nx ny nz"],
    density: Float[Array, " label"],
    h: float,
    gauss: Int[Array, " ng"] | None = None,
    offset: Float[Array, "3 nx1 ny1 nz1"] | None = None,
) -> Array:
    """Lumped nodal masses [g]: each deforming cube gives rho h^3 / 8 to its 8 corners; with reference
    nodes moved by `offset` [mm], each cell of `gauss` (which must hold every moved cell) gives
    rho sum_g w_g N_a(xi_g) to corner a (the row sums of its consistent mass, `gauss_geometry`)."""
    rho_e = jnp.where(deformable_mask(labels), density[labels], 0.0) * (h**3 / 8.0)
    m = jnp.zeros(tuple(s + 1 for s in labels.shape), density.dtype)
    nx, ny, nz = labels.shape
    for ax, ay, az in CORNERS:
        m = m.at[ax : ax + nx, ay : ay + ny, az : az + nz].add(rho_e)
    if offset is None:
        return m
    if gauss is None:
        raise ValueError("node_mass: moved nodes (offset) need the cells that hold them (gauss)")
    node_shape = m.shape
    weight = gauss_geometry(gauss, h, node_shape, density.dtype, offset)[1]
    rho = _at_cells(density[labels], gauss, 3)
    corner = rho[None] * (_GAUSS_N.T.astype(density.dtype) @ weight - h**3 / 8.0)  # (8, ng)
    cell = jnp.stack(jnp.unravel_index(gauss, labels.shape))  # (3, ng)
    extra = jnp.zeros(m.size, m.dtype)
    for a, (ax, ay, az) in enumerate(CORNERS.tolist()):
        node = jnp.ravel_multi_index((cell[0] + ax, cell[1] + ay, cell[2] + az), node_shape, mode="clip")
        extra = extra.at[node].add(corner[a])
    return m + extra.reshape(node_shape)


def node_positions(
    node_shape: tuple[int, int, int], origin: Float[Array, " 3"], h: float
) -> Float[Array, "3 nx1 ny1 nz1"]:
    """Reference positions X of the grid nodes [mm]."""
    axes = [origin[d] + h * jnp.arange(node_shape[d], dtype=origin.dtype) for d in range(3)]
    return jnp.stack(jnp.meshgrid(*axes, indexing="ij"))


# --- kinematics of an element -------------------------------------------------------------------------------


def element_gradients(
    u: Float[Array, "3 nx1 ny1 nz1"], h: float
) -> tuple[Float[Array, "3 3 nx ny nz"], Float[Array, "12 nx ny nz"]]:
    """Displacement gradient H[i, j] = du_i/dX_j at each element centre [-] and hourglass amplitudes [mm].

    H[i, j] = sum_a u_a,i s_a,j / (4 h);  q[3 m + i] = sum_a Gamma_m(a) u_a,i (Gamma: s_x s_y, s_y s_z,
    s_z s_x, s_x s_y s_z). Linear in u; written as edge differences of the node grid (array shifts).
    """
    dx = u[:, 1:] - u[:, :-1]  # (3, nx, ny1, nz1)
    dy = u[:, :, 1:] - u[:, :, :-1]  # (3, nx1, ny, nz1)
    dz = u[:, :, :, 1:] - u[:, :, :, :-1]  # (3, nx1, ny1, nz)
    gx = dx[:, :, :-1, :-1] + dx[:, :, 1:, :-1] + dx[:, :, :-1, 1:] + dx[:, :, 1:, 1:]
    gy = dy[:, :-1, :, :-1] + dy[:, 1:, :, :-1] + dy[:, :-1, :, 1:] + dy[:, 1:, :, 1:]
    gz = dz[:, :-1, :-1] + dz[:, 1:, :-1] + dz[:, :-1, 1:] + dz[:, 1:, 1:]
    grad = jnp.stack([gx, gy, gz], axis=1) / (4.0 * h)  # grad[i, j]
    dxy = dx[:, :, 1:] - dx[:, :, :-1]  # (3, nx, ny, nz1)
    dyz = dy[:, :, :, 1:] - dy[:, :, :, :-1]  # (3, nx1, ny, nz)
    dzx = dz[:, 1:] - dz[:, :-1]  # (3, nx, ny1, nz)
    q = jnp.concatenate(
        [
            dxy[..., :-1] + dxy[..., 1:],  # s_x s_y
            dyz[:, :-1] + dyz[:, 1:],  # s_y s_z
            dzx[:, :, :-1] + dzx[:, :, 1:],  # s_z s_x
            dxy[..., 1:] - dxy[..., :-1],  # s_x s_y s_z
        ]
    )
    return grad, q  # q index 3 m + i


def gauss_gradients(
    grad: Float[Array, "3 3 *cells"], q: Float[Array, "12 *cells"], h: float
) -> Float[Array, "3 3 8 *cells"]:
    """Displacement gradient [-] at the 2 x 2 x 2 Gauss points (`GAUSS_POINTS`) of cubes of side h [mm], from
    the centre gradient and the hourglass amplitudes of `element_gradients` (trilinear shape functions):

        H[:, x](xi) = H0[:, x] + (xi_y q_xy + xi_z q_zx + xi_y xi_z q_xyz) / (4 h), and cyclically.

    Linear in (grad, q); the mean over the 8 points is the centre gradient."""
    qm = [q[3 * m : 3 * m + 3] for m in range(4)]  # xy, yz, zx, xyz; each (3, *cells)
    pts = []
    for gx, gy, gz in GAUSS_POINTS.tolist():
        cx = gy * qm[0] + gz * qm[2] + gy * gz * qm[3]
        cy = gx * qm[0] + gz * qm[1] + gx * gz * qm[3]
        cz = gy * qm[1] + gx * qm[2] + gx * gy * qm[3]
        pts.append(grad + jnp.stack([cx, cy, cz], axis=1) / (4.0 * h))
    return jnp.stack(pts, axis=2)


def _corner_edges(u: Float[Array, "3 nx1 ny1 nz1"], h: float, grid: tuple[int, int, int]):
    """For each corner a of every cell: the three edge differences through it over h, (3, 3, nx, ny, nz)."""
    dx = (u[:, 1:] - u[:, :-1]) / h  # (3, nx, ny1, nz1)
    dy = (u[:, :, 1:] - u[:, :, :-1]) / h  # (3, nx1, ny, nz1)
    dz = (u[:, :, :, 1:] - u[:, :, :, :-1]) / h  # (3, nx1, ny1, nz)
    nx, ny, nz = grid
    for a, b, c in CORNERS.tolist():
        ex = dx[:, :, b : b + ny, c : c + nz]
        ey = dy[:, a : a + nx, :, c : c + nz]
        ez = dz[:, a : a + nx, b : b + ny, :]
        yield jnp.stack([ex, ey, ez], axis=1)


def centre_gradients(
    u: Float[Array, "3 nx1 ny1 nz1"], h: float, offset: Float[Array, "3 nx1 ny1 nz1"] | None = None
) -> Float[Array, "3 3 nx ny nz"]:
    """Displacement gradient du/dX at every element centre [-], on cubes or (with `offset` [mm], the
    reference nodes minus the grid) on the moved cells: (du/dX_cube) (I + d offset/dX_cube)^-1."""
    grad, _ = element_gradients(u, h)
    if offset is None:
        return grad
    g0, _ = element_gradients(offset.astype(u.dtype), h)
    return _mm(grad, _inverse(g0 + _eye_like(g0)))


def min_corner_jacobian(
    u: Float[Array, "3 nx1 ny1 nz1"],
    h: float,
    deform: Float[Array, "nx ny nz"],
    offset: Float[Array, "3 nx1 ny1 nz1"] | None = None,
) -> Array:
    """Smallest Jacobian det(I + grad u) at the eight corners of the deforming elements [-].

    At a corner of a trilinear cube the displacement gradient is the three edge differences through that
    corner over h, so the corner Jacobians come from array shifts; with reference nodes moved off the
    grid by `offset` [mm] (a smoothed mesh) it is det(edges of X + u) / det(edges of X). <= 0 means an
    inverted element: the mesh no longer discretises the body (its one-point stress, taken at the
    centre, can stay finite)."""
    return jnp.min(cell_corner_jacobians(u, h, deform, offset))


def cell_corner_jacobians(
    u: Float[Array, "3 nx1 ny1 nz1"],
    h: float,
    deform: Float[Array, "nx ny nz"],
    offset: Float[Array, "3 nx1 ny1 nz1"] | None = None,
) -> Float[Array, "nx ny nz"]:
    """Smallest corner Jacobian of every cell [-] (`min_corner_jacobian`); +inf on cells that don't deform."""
    big = jnp.asarray(jnp.inf, u.dtype)
    worst = jnp.full(deform.shape, big)
    x = u if offset is None else u + offset
    edges_x = _corner_edges(x, h, deform.shape)
    edges_ref = None if offset is None else _corner_edges(offset, h, deform.shape)
    for ex in edges_x:
        jac = 1.0 + _det_minus_one(ex)  # grad[i, j] = du_i / dX_j
        if edges_ref is not None:
            jac = jac / (1.0 + _det_minus_one(next(edges_ref)))
        worst = jnp.minimum(worst, jnp.where(deform > 0, jac, big))
    return worst


def nodal_forces(
    stress_volume: Float[Array, "3 3 nx ny nz"],
    hourglass_force: Float[Array, "12 nx ny nz"],
    node_shape: tuple[int, int, int],
    h: float,
) -> Float[Array, "3 nx1 ny1 nz1"]:
    """Internal nodal forces [N]: minus the transpose of `element_gradients` applied to (V P, Q)."""
    zeros = jnp.zeros((3, *node_shape), stress_volume.dtype)
    _, transpose = jax.vjp(lambda u: element_gradients(u, h), zeros)
    (f,) = transpose((stress_volume, hourglass_force))
    return -f


def _hourglass_product(q: Float[Array, "12 *cells"]) -> Float[Array, "12 *cells"]:
    """K_hat q, unrolled over the nonzero entries of K_hat."""
    rows = [None] * 12
    for r, c, val in _K_HAT_NZ:
        term = val * q[c]
        rows[r] = term if rows[r] is None else rows[r] + term
    zero = jnp.zeros_like(q[0])
    return jnp.stack([zero if x is None else x for x in rows])


def green_lagrange_from_grad(grad: Float[Array, "3 3 *grid"]) -> Float[Array, "3 3 *grid"]:
    """E = (H + H^T + H^T H) / 2 [-] from H[i, j] = du_i/dX_j (no cancellation at small strain)."""
    return 0.5 * (grad + jnp.swapaxes(grad, 0, 1) + _tm(grad, grad))


def _det_minus_one(grad: Array) -> Array:
    """det(I + H) - 1 = I1(H) + I2(H) + I3(H), accurate for small H."""
    i1 = _trace(grad)
    i2 = 0.5 * (i1**2 - _trace(_mm(grad, grad)))
    return i1 + i2 + _det(grad)


def _stress_parts(grad: Array, bulk: Array) -> tuple[Array, Array]:
    """(unit isochoric 2nd PK stress S0 [-], volumetric 2nd PK stress S_vol [MPa]) from H, (3, 3, ...)."""
    e = green_lagrange_from_grad(grad)
    jm1 = _det_minus_one(grad)
    j = 1.0 + jm1
    eye = _eye_like(grad)
    c_inv = _sym_inverse(2.0 * e + eye, j**2)
    dev_e = e - (_trace(e) / 3.0)[None, None] * eye
    j_m23 = jnp.exp(-2.0 / 3.0 * jnp.log1p(jm1))
    s0 = 2.0 * j_m23[None, None] * _mm(c_inv, dev_e)
    s0 = 0.5 * (s0 + jnp.swapaxes(s0, 0, 1))  # C^-1 dev(E) is symmetric in exact arithmetic
    s_vol = (bulk * jm1 * j)[None, None] * c_inv
    return s0, s_vol


def _prony_coefficients(decay: Array, dt: Array) -> tuple[Array, Array]:
    """(a_i = exp(-beta_i dt), (1 - a_i) / (beta_i dt)) with the beta -> 0 limit 1."""
    x = decay * dt
    a = jnp.exp(-x)
    small = x < 1e-6
    g = jnp.where(small, 1.0 - 0.5 * x, -jnp.expm1(-x) / jnp.where(small, 1.0, x))
    return a, g


class ElementFields(eqx.Module):
    """Per-element and per-node constants of one solve (material looked up by label)."""

    deform: Float[Array, "nx ny nz"]  # 1 where the cell deforms, else 0
    bulk: Float[Array, "nx ny nz"]  # [MPa]
    shear_inf: Float[Array, "nx ny nz"]  # [MPa]
    shear_terms: Float[Array, "term nx ny nz"]  # [MPa]
    decay: Float[Array, "term nx ny nz"]  # [1/ms]
    inv_mass: Float[Array, "nx1 ny1 nz1"]  # 1/m on free nodes, 0 on fixed ones [1/g]
    positions: Float[Array, "3 nx1 ny1 nz1"]  # X - c [mm]
    hourglass_scale: Float[Array, ""]
    h: float = eqx.field(static=True)
    layer: Layer | None = None  # the subarachnoid layer's nodes and skull surface (None: boundary tied)
    stiffness: Interface | None = None  # its stiffness per area
    cells: Int[Array, " ne"] | None = None  # flat indices of the deforming cells (None: the whole grid)
    # flat indices of the cells whose deviatoric stress is integrated at 2 x 2 x 2 Gauss points (no
    # hourglass term there), and the grid weight of the one-point deviatoric + hourglass terms (0 there)
    gauss: Int[Array, " ng"] | None = None
    point_weight: Float[Array, "nx ny nz"] | None = None
    # reference geometry of the Gauss cells: A = (dX/dX_cube)^-1 at the Gauss points, quadrature weights
    # w_g = det(dX/dxi) [mm^3] and volumes [mm^3] (cubes: A = I, w = h^3 / 8)
    gauss_inv: Float[Array, "3 3 8 ng"] | None = None
    gauss_weight: Float[Array, "8 ng"] | None = None
    volume: Float[Array, " ng"] | None = None
    offset: Float[Array, "3 nx1 ny1 nz1"] | None = None  # reference nodes minus grid nodes [mm]


@functools.partial(jax.jit, static_argnums=4, static_argnames=("anchor_falx",))
def element_fields(
    labels: Int[Array, "nx ny nz"],
    tables: LabelTables,
    origin: Float[Array, " 3"],
    centre: Float[Array, " 3"],
    h: float,
    interface: Interface | None = None,
    layer: Layer | None = None,
    cells: Int[Array, " ne"] | None = None,
    gauss: Int[Array, " ng"] | None = None,
    offset: Float[Array, "3 nx1 ny1 nz1"] | None = None,
    anchor_falx: bool = True,
) -> ElementFields:
    """Look up the material of every cell, the lumped masses of every node and, with `interface` (the
    layer's stiffness) and `layer` (its geometry, `axojax.headmodel._fe_model.skull_layer`), the
    subarachnoid layer on the boundary nodes (plus half the layer's mass).

    `cells` (`deforming_cells(labels)`, from concrete labels): compute stresses on those cells only, with
    the internal variables stored per cell (`init_state(..., n_cells=)`), instead of on the whole grid's
    bounding box (~40 % of it deforms on the MNI meshes); the same numbers, ~1.25x faster per step on CPU.

    `gauss` (deforming cells, e.g. `surface_cells(labels)`; internal variables `init_state(..., n_gauss=)`):
    integrate the deviatoric stress of those cells at their 2 x 2 x 2 Gauss points with the full nonlinear
    law (volumetric stress still at the centre: the selective-reduced hexahedron), instead of one point plus
    the linear hourglass term. The same element in the small-strain limit; at large strain the Gauss points
    stiffen as the element's corners approach inversion, which the linear hourglass term does not.

    `offset` [mm]: reference nodes moved off the grid (a smoothed mesh, `_fe_mesh.smooth_offsets`): the
    cells that touch a moved node are general trilinear hexahedra and must be among `gauss` (checked by
    `FEHeadModel`); their gradients, quadrature weights and lumped masses come from the moved nodes."""
    if (interface is None) != (layer is None):
        raise ValueError(
            "element_fields: pass both the layer's stiffness (interface) and geometry, or neither"
        )
    deform = deformable_mask(labels)
    free = free_node_mask(labels, interface=interface is not None, anchor_falx=anchor_falx)
    if offset is not None and gauss is None:
        raise ValueError("element_fields: a mesh with moved nodes (offset) needs its cells in gauss")
    mass = node_mass(labels, tables.density, h, gauss, offset)
    node_shape = tuple(s + 1 for s in labels.shape)
    if layer is not None:
        extra = (
            jnp.zeros(mass.size, mass.dtype).at[layer.node].add(0.5 * interface.areal_density * layer.area)
        )
        mass = mass + extra.reshape(mass.shape)
    dtype = tables.bulk.dtype
    point_weight = geometry = None
    if gauss is not None:
        point_weight = jnp.ones(labels.size, dtype).at[gauss].set(0.0).reshape(labels.shape)
        geometry = gauss_geometry(gauss, h, node_shape, dtype, offset)
    inv_mass = jnp.where(free, 1.0 / jnp.where(free, mass, 1.0), 0.0)
    positions = node_positions(node_shape, origin, h) - centre[:, None, None, None]
    if offset is not None:
        positions = positions + offset
    return ElementFields(
        deform=deform.astype(tables.bulk.dtype),
        bulk=tables.bulk[labels],
        shear_inf=tables.shear_inf[labels],
        shear_terms=jnp.moveaxis(tables.shear_terms[labels], -1, 0),
        decay=jnp.moveaxis(tables.decay[labels], -1, 0),
        inv_mass=inv_mass,
        positions=positions,
        hourglass_scale=tables.hourglass_scale,
        h=h,
        layer=layer,
        stiffness=interface,
        cells=cells,
        gauss=gauss,
        point_weight=point_weight,
        gauss_inv=None if geometry is None else geometry[0],
        gauss_weight=None if geometry is None else geometry[1],
        volume=None if geometry is None else geometry[2],
        offset=offset,
    )


# shape functions N_a at the Gauss points, (8 points, 8 corners)
_GAUSS_N = np.prod(1.0 + GAUSS_POINTS[:, None, :] * _SIGNS[None], axis=-1) / 8.0


def gauss_geometry(
    gauss: Int[Array, " ng"],
    h: float,
    node_shape: tuple[int, int, int],
    dtype,
    offset: Float[Array, "3 nx1 ny1 nz1"] | None = None,
) -> tuple[Array, Array, Array]:
    """(A_g (3, 3, 8, ng), w_g [mm^3] (8, ng), volume [mm^3] (ng,)) of the cells `gauss`.

    With reference nodes X = grid + offset, dX/dX_cube = I + grad(offset) (the trilinear map of the cell,
    `element_gradients` / `gauss_gradients` of the offset field); A = its inverse, so that
    du/dX = (du/dX_cube) A, and w_g = h^3 / 8 det(dX/dX_cube) at each Gauss point (volume = sum_g w_g)."""
    n = gauss.shape[0]
    if offset is None:
        eye = jnp.broadcast_to(jnp.eye(3, dtype=dtype)[:, :, None], (3, 3, n))
        w = jnp.full((8, n), h**3 / 8.0, dtype)
        return jnp.broadcast_to(eye[:, :, None], (3, 3, 8, n)), w, jnp.sum(w, axis=0)
    g0, q0 = element_gradients(offset.astype(dtype), h)
    g0, q0 = _at_cells(g0, gauss, 3), _at_cells(q0, gauss, 3)
    mg = gauss_gradients(g0, q0, h) + _eye_like(g0)[:, :, None]
    w = (h**3 / 8.0) * _det(mg)
    return _inverse(mg), w, jnp.sum(w, axis=0)


def deforming_cells(labels) -> Int[Array, " ne"]:
    """Flat (C-order) indices of the deforming cells of a concrete label grid (host-side)."""
    return jnp.asarray(np.flatnonzero(np.asarray(deformable_mask(jnp.asarray(labels)))), jnp.int32)


def surface_cells(labels) -> Int[Array, " ns"]:
    """Flat (C-order) indices of the deforming cells that share a face with a cell that does not deform (or
    with the grid's edge): the envelope's outermost layer, where a voxel staircase meets the skull
    (host-side, from concrete labels)."""
    deform = np.pad(np.asarray(deformable_mask(jnp.asarray(labels))), 1)
    inner = deform[1:-1, 1:-1, 1:-1]
    exposed = np.zeros_like(inner)
    for axis in range(3):
        for shift in (-1, 1):
            exposed |= ~np.roll(deform, shift, axis=axis)[1:-1, 1:-1, 1:-1]
    return jnp.asarray(np.flatnonzero(inner & exposed), jnp.int32)


def init_state(
    labels: Int[Array, "nx ny nz"], n_terms: int, dtype, n_cells: int | None = None, n_gauss: int = 0
) -> FEState:
    """The undeformed mesh at rest; internal variables per grid cell, or per deforming cell with `n_cells`
    (= len(`deforming_cells(labels)`), for fields built with `cells`), and at the Gauss points of the
    `n_gauss` fully integrated cells (fields built with `gauss`)."""
    node = (3, *(s + 1 for s in labels.shape))
    grid = tuple(labels.shape) if n_cells is None else (int(n_cells),)
    return FEState(
        u=jnp.zeros(node, dtype),
        v=jnp.zeros(node, dtype),
        h_stress=jnp.zeros((n_terms, 3, 3, *grid), dtype),
        h_hourglass=jnp.zeros((n_terms, 12, *grid), dtype),
        s0_prev=jnp.zeros((3, 3, *grid), dtype),
        kq_prev=jnp.zeros((12, *grid), dtype),
        h_gauss=jnp.zeros((n_terms, 3, 3, 8, int(n_gauss)), dtype),
        s0_gauss_prev=jnp.zeros((3, 3, 8, int(n_gauss)), dtype),
    )


def element_stress(
    fields: ElementFields, state: FEState, dt: Float[Array, ""]
) -> tuple[Float[Array, "3 3 *cells"], Float[Array, "3 3 *cells"], Float[Array, "12 *cells"], FEState]:
    """(H, 2nd PK stress S [MPa], hourglass force Q [N], updated internal variables) of every element.

    The Prony recursion advances the viscous stresses from the previous call (dt [ms] earlier) to now.
    With `fields.cells`, H, S, Q and the internal variables are per deforming cell, shape (..., ne).
    """
    grad, q = element_gradients(state.u, fields.h)
    if fields.cells is None:
        bulk, shear_inf, shear_terms, decay, deform = (
            fields.bulk,
            fields.shear_inf,
            fields.shear_terms,
            fields.decay,
            fields.deform,
        )
    else:  # the deforming cells only: (..., ne)
        grad, q, bulk, shear_inf, shear_terms, decay = (
            _at_cells(x, fields.cells, fields.deform.ndim)
            for x in (grad, q, fields.bulk, fields.shear_inf, fields.shear_terms, fields.decay)
        )
        deform = jnp.ones_like(bulk)
    point = None
    if fields.point_weight is not None:
        point = fields.point_weight
        if fields.cells is not None:
            point = _at_cells(point, fields.cells, 3)
    a, g = _prony_coefficients(decay, dt)  # (term, ...)
    weight = shear_terms * g
    s0, s_vol = _stress_parts(grad, bulk)
    kq = _hourglass_product(q)
    h_stress = a[:, None, None] * state.h_stress + weight[:, None, None] * (s0 - state.s0_prev)[None]
    h_hg = a[:, None] * state.h_hourglass + weight[:, None] * (kq - state.kq_prev)[None]
    stress = (shear_inf[None, None] * s0 + jnp.sum(h_stress, axis=0) + s_vol) * deform[None, None]
    hg_scale = fields.hourglass_scale * fields.h * deform
    if point is not None:  # the Gauss cells' stresses come from `gauss_stress`
        stress, hg_scale = stress * point[None, None], hg_scale * point
    hg = (shear_inf[None] * kq + jnp.sum(h_hg, axis=0)) * hg_scale[None]
    new = eqx.tree_at(
        lambda s: (s.h_stress, s.h_hourglass, s.s0_prev, s.kq_prev), state, (h_stress, h_hg, s0, kq)
    )
    return grad, stress, hg, new


def _gauss_weights(fields: ElementFields):
    """(w_g, V) of the Gauss cells, broadcastable against (3, 3, 8, ng) and (3, 3, ng) [mm^3]."""
    if fields.offset is None:  # cubes
        return fields.h**3 / 8.0, fields.h**3
    return fields.gauss_weight[None, None], fields.volume[None, None]


def _gauss_kinematics(
    fields: ElementFields, grad: Float[Array, "3 3 ng"], q: Float[Array, "12 ng"]
) -> tuple[Float[Array, "3 3 8 ng"], Float[Array, "3 3 ng"]]:
    """(H_g at the Gauss points, the mean gradient H_0) of the Gauss cells from their cube gradient and
    hourglass amplitudes; on cubes A = I and H_0 is the centre gradient (the fast path, 4x per step)."""
    hg = gauss_gradients(grad, q, fields.h)
    if fields.offset is None:
        return hg, grad
    # as dot products (fusion barriers): unrolled into the elementwise algebra, XLA's CPU fusion
    # recomputed this product in every consumer (4x slower per step)
    hg = jnp.einsum("ikgc,kjgc->ijgc", hg, fields.gauss_inv)
    return hg, jnp.einsum("ijgc,gc->ijc", hg, fields.gauss_weight) / fields.volume[None, None]


def gauss_stress(
    fields: ElementFields, state: FEState, dt: Float[Array, ""]
) -> tuple[Float[Array, "3 3 ng"], Float[Array, "12 ng"], FEState]:
    """Work conjugates of the cube gradient and the hourglass amplitudes [N mm, N] of the stresses of the
    cells `fields.gauss`, and the updated internal variables: the deviatoric stress at the 2 x 2 x 2 Gauss
    points, the volumetric stress at the centre (selective-reduced integration).

    With H_g = (du/dX_cube)(xi_g) A_g (`gauss_geometry`) and the mean gradient H_0 = sum_g w_g H_g / V (the
    mean-dilatation / B-bar operator: the centre gradient on a cube, and exact for every linear field on a
    moved cell, so the patch test holds), the energy sum_g w_g psi_dev(H_g) + V psi_vol(H_0) has the
    derivatives returned here, P = (I + H) S: what `nodal_forces` takes in place of (V P, Q) there."""
    grad, q = element_gradients(state.u, fields.h)
    cells = fields.gauss
    grad, q = _at_cells(grad, cells, 3), _at_cells(q, cells, 3)
    bulk, shear_inf, shear_terms, decay = (
        _at_cells(x, cells, 3) for x in (fields.bulk, fields.shear_inf, fields.shear_terms, fields.decay)
    )
    a, g = _prony_coefficients(decay, dt)  # (term, ng)
    prony_weight = shear_terms * g

    weight, volume = _gauss_weights(fields)

    def kinematics(a, b):
        return _gauss_kinematics(fields, a, b)

    (hgp, h0), transpose = jax.vjp(kinematics, grad, q)
    s0, _ = _stress_parts(hgp, jnp.zeros_like(hgp[0, 0]))
    _, s_vol = _stress_parts(h0, bulk)
    h_gauss = (
        a[:, None, None, None] * state.h_gauss
        + prony_weight[:, None, None, None] * (s0 - state.s0_gauss_prev)[None]
    )
    dev = shear_inf[None, None, None] * s0 + jnp.sum(h_gauss, axis=0)
    piola = _mm(_eye_like(hgp) + hgp, dev) * weight
    piola0 = _mm(_eye_like(h0) + h0, s_vol) * volume
    ct_grad, ct_q = transpose((piola, piola0))
    new = eqx.tree_at(lambda s: (s.h_gauss, s.s0_gauss_prev), state, (h_gauss, s0))
    return ct_grad, ct_q, new


def _at_cells(x: Array, cells: Int[Array, " ne"], grid_ndim: int) -> Array:
    """x[..., cells] of a (..., nx, ny, nz) element field: (..., ne)."""
    return x.reshape(*x.shape[: x.ndim - grid_ndim], -1)[..., cells]


def _to_grid(x: Array, cells: Int[Array, " ne"], grid: tuple[int, ...]) -> Array:
    """Inverse of `_at_cells`: (..., ne) -> (..., *grid), zero on the other cells."""
    lead = x.shape[:-1]
    n = int(np.prod(grid))
    return jnp.zeros((*lead, n), x.dtype).at[..., cells].set(x, unique_indices=True).reshape(*lead, *grid)


def internal_forces(
    fields: ElementFields, state: FEState, dt: Float[Array, ""]
) -> tuple[Float[Array, "3 nx1 ny1 nz1"], FEState]:
    """Internal nodal forces [N] at the state's displacement, and the updated viscous internal variables."""
    grad, stress, hg, new = element_stress(fields, state, dt)
    piola = _mm(_eye_like(grad) + grad, stress) * (fields.h**3)
    grid = fields.deform.shape
    if fields.cells is not None:
        piola, hg = _to_grid(piola, fields.cells, grid), _to_grid(hg, fields.cells, grid)
    if fields.gauss is not None:
        ct_grad, ct_q, new = gauss_stress(fields, new, dt)
        piola = piola + _to_grid(ct_grad, fields.gauss, grid)
        hg = hg + _to_grid(ct_q, fields.gauss, grid)
    f = nodal_forces(piola, hg, state.u.shape[1:], fields.h)
    if fields.layer is not None:
        f = f + layer_forces(fields.layer, fields.stiffness, state.u)
    return f, new


def step(fields: ElementFields, state: FEState, loads: Loads, dt: Float[Array, ""]) -> FEState:
    """One central-difference step of length dt [ms] under the skull motion `loads` at the current time."""
    f, state = internal_forces(fields, state, dt)
    r = fields.positions + state.u
    # a x r + w x (w x r) + 2 w x v + a_lin = A r + B v + a_lin with the 3 x 3 matrices A = [a]x + [w]x^2,
    # B = 2 [w]x: one linear combination per component. The nested cross products written on the grid made
    # the whole step 1.4-1.6x slower at 4 mm (measured; with the loads as constants both ran alike, and the
    # fusions' count was the same, so where XLA lost the time was not pinned down)
    w = _skew(loads.ang_vel)
    a_mat = _skew(loads.ang_acc) + w @ w
    b_mat = 2.0 * w
    frame = jnp.stack(
        [
            sum(a_mat[i, j] * r[j] + b_mat[i, j] * state.v[j] for j in range(3)) + loads.lin_acc[i]
            for i in range(3)
        ]
    )
    free = (fields.inv_mass > 0).astype(r.dtype)
    acc = f * fields.inv_mass[None] - frame * free[None]
    v = state.v + dt * acc
    u = state.u + dt * v
    return eqx.tree_at(lambda s: (s.u, s.v), state, (u, v))


@functools.partial(jax.jit, static_argnums=2)
def stable_time_step(tables: LabelTables, labels_present: Int[Array, " n"], h: float) -> Float[Array, ""]:
    """Critical central-difference step [ms] bound by the element eigenvalue theorem (Irons).

    For each label present, the largest eigenvalue of M_e^-1 K_e of one cube with lumped mass, at zero
    strain with the instantaneous moduli (K, G_0) and the hourglass term; dt_crit = 2 / sqrt(max lambda).
    The assembled mesh's largest frequency never exceeds the largest element frequency.
    """
    dtype = tables.bulk.dtype
    one = jnp.ones((1, 1, 1), dtype)

    def lam(label):
        fields = ElementFields(
            deform=one,
            bulk=tables.bulk[label] * one,
            shear_inf=tables.shear_instantaneous()[label] * one,
            shear_terms=jnp.zeros((1, 1, 1, 1), dtype),
            decay=jnp.zeros((1, 1, 1, 1), dtype),
            inv_mass=jnp.zeros((2, 2, 2), dtype),
            positions=jnp.zeros((3, 2, 2, 2), dtype),
            hourglass_scale=tables.hourglass_scale,
            h=h,
        )
        state0 = init_state(jnp.ones((1, 1, 1), jnp.int32), 1, dtype)

        def forces(u):
            return internal_forces(fields, eqx.tree_at(lambda s: s.u, state0, u), jnp.asarray(1.0, dtype))[0]

        stiff = -jax.jacfwd(forces)(state0.u).reshape(24, 24)
        stiff = 0.5 * (stiff + stiff.T)
        return jnp.max(jnp.linalg.eigvalsh(stiff)) / (tables.density[label] * h**3 / 8.0)

    return 2.0 / jnp.sqrt(jnp.max(jax.vmap(lam)(labels_present)))


def critical_step(fields: ElementFields, element_step: Float[Array, ""]) -> Float[Array, ""]:
    """Critical step [ms] of the mesh with its subarachnoid layer: by Weyl's inequality the largest
    eigenvalue of M^-1 (K_elements + K_layer) is at most (2 / `element_step`)^2 plus the largest layer
    layer stiffness over mass of a node, k_n |a| / m (|grad phi| <= 1; the layer is stiffest normally)."""
    if fields.layer is None:
        return element_step
    k = fields.stiffness.normal_stiffness * fields.layer.area * fields.inv_mass.reshape(-1)[fields.layer.node]
    return 2.0 / jnp.sqrt((2.0 / element_step) ** 2 + jnp.max(k))


def instantaneous_fields(fields: ElementFields) -> ElementFields:
    """`fields` with every Prony modulus folded into the long-term one (G_inf + sum G_i, no relaxation):
    the stiffest response of the material, the one explicit stability depends on."""
    return eqx.tree_at(
        lambda f: (f.shear_inf, f.shear_terms),
        fields,
        (fields.shear_inf + jnp.sum(fields.shear_terms, axis=0), jnp.zeros_like(fields.shear_terms)),
    )


@functools.partial(jax.jit, static_argnums=1)
def assembled_critical_step(
    fields: ElementFields, n_iter: int = 80, key: Array | None = None
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """Critical step [ms] of the assembled mesh, from its largest eigenvalue by Lanczos iteration.

    The element bound (`stable_time_step`, `critical_step`) never exceeds the true critical step, but on a
    voxel mesh it is ~1.5x (4 mm) to 1.7x (6 mm, with the layer) too short: neighbouring elements share
    nodes and cannot all move in their own stiffest mode. This is the global estimate explicit codes use
    for the same reason (e.g. Abaqus/Explicit's global stable-increment estimator): `n_iter` Lanczos steps
    on M^-1/2 K M^-1/2, K the small-strain stiffness of the elements and the layer at rest (jvp of
    `internal_forces`, from `instantaneous_fields`; fixed nodes excluded), from a random start (`key`).

    Returns:
        (dt_crit = 2 / sqrt(theta + r) [ms], r / theta): theta the largest Ritz value, r its residual norm.
        An eigenvalue lies within r of theta; with r / theta small (<~1e-3 after 80 steps on the MNI
        meshes) theta is the largest one and the step is sharp. Callers fall back to the element bound when
        r / theta is not small.
    """
    fields = instantaneous_fields(fields)
    dtype = fields.positions.dtype
    grid = fields.deform.shape
    n_terms = fields.shear_terms.shape[0]
    n_cells = None if fields.cells is None else fields.cells.shape[0]
    n_gauss = 0 if fields.gauss is None else fields.gauss.shape[0]
    state0 = init_state(jnp.zeros(grid, jnp.int32), n_terms, dtype, n_cells, n_gauss)
    scale = jnp.sqrt(fields.inv_mass)[None]  # 0 on fixed nodes

    def op(x):
        def forces(u):
            return internal_forces(fields, eqx.tree_at(lambda s: s.u, state0, u), jnp.asarray(1.0, dtype))[0]

        return -jax.jvp(forces, (state0.u,), (x * scale,))[1] * scale

    key = jax.random.PRNGKey(0) if key is None else key
    v0 = jax.random.normal(key, state0.u.shape, dtype) * (scale > 0).astype(dtype)
    v0 = v0 / jnp.linalg.norm(v0)

    def body(carry, _):
        v, v_prev, beta = carry
        w = op(v) - beta * v_prev
        alpha = jnp.sum(w * v)
        w = w - alpha * v
        beta_next = jnp.linalg.norm(w)
        return (w / jnp.where(beta_next > 0, beta_next, 1.0), v, beta_next), (alpha, beta_next)

    zero = jnp.asarray(0.0, dtype)
    _, (alphas, betas) = jax.lax.scan(body, (v0, jnp.zeros_like(v0), zero), None, length=n_iter)
    tri = jnp.diag(alphas) + jnp.diag(betas[:-1], 1) + jnp.diag(betas[:-1], -1)
    evals, evecs = jnp.linalg.eigh(tri)
    theta = evals[-1]
    resid = jnp.abs(betas[-1] * evecs[-1, -1])
    return 2.0 / jnp.sqrt(theta + resid), resid / theta


def strain_energy(fields: ElementFields, u: Float[Array, "3 nx1 ny1 nz1"]) -> Float[Array, ""]:
    """Elastic energy [mJ = N mm] with the long-term moduli (G_inf, K): sum V psi + hourglass energy."""
    h = fields.h
    grad, q = element_gradients(u, h)
    e = green_lagrange_from_grad(grad)
    jm1 = _det_minus_one(grad)
    log_j = jnp.log1p(jm1)
    ibar_minus3 = jnp.exp(-2.0 / 3.0 * log_j) * 2.0 * _trace(e) + 3.0 * jnp.expm1(-2.0 / 3.0 * log_j)
    e_hg = 0.5 * fields.hourglass_scale * h * fields.shear_inf * jnp.sum(q * _hourglass_product(q), axis=0)
    psi_dev = 0.5 * fields.shear_inf * ibar_minus3
    psi_vol = 0.5 * fields.bulk * jm1**2
    point = 1.0 if fields.point_weight is None else fields.point_weight
    e = jnp.sum(((psi_dev + psi_vol) * h**3 + e_hg) * point * fields.deform)
    if fields.gauss is not None:
        g_c, q_c = _at_cells(grad, fields.gauss, 3), _at_cells(q, fields.gauss, 3)
        hgp, h0 = _gauss_kinematics(fields, g_c, q_c)
        e_g = green_lagrange_from_grad(hgp)
        lj = jnp.log1p(_det_minus_one(hgp))
        ib = jnp.exp(-2.0 / 3.0 * lj) * 2.0 * _trace(e_g) + 3.0 * jnp.expm1(-2.0 / 3.0 * lj)
        shear = _at_cells(fields.shear_inf, fields.gauss, 3)
        e = e + jnp.sum(0.5 * shear[None] * ib * fields.gauss_weight)
        jm1_c = _det_minus_one(h0)
        e = e + jnp.sum(0.5 * _at_cells(fields.bulk, fields.gauss, 3) * jm1_c**2 * fields.volume)
    if fields.layer is not None:
        e = e + layer_energy(fields.layer, fields.stiffness, u)
    return e


def kinetic_energy(
    labels: Int[Array, "nx ny nz"],
    density: Float[Array, " label"],
    h: float,
    v: Float[Array, "3 nx1 ny1 nz1"],
) -> Float[Array, ""]:
    """Kinetic energy [mJ] of the lumped masses."""
    return 0.5 * jnp.sum(node_mass(labels, density, h) * jnp.sum(v**2, axis=0))
