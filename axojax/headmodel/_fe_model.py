"""The finite-element head model: voxel mesh, brain materials and the explicit solve over an impact.

`FEHeadModel` is an `AbstractHeadModel`: head angular acceleration in (head frame, SAE J211), Green-Lagrange
strain at brain points out. The numerics are in `axojax.headmodel._fe_solver` (internal units mm, ms, g,
N, MPa); this module converts at its edge (s, rad/s^2, kPa, kg/m^3).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from axojax.headmodel import _fe_solver as fe
from axojax.headmodel._model import AbstractHeadModel, ReducedHeadModel

__all__ = [
    "LABELS",
    "VoxelMesh",
    "FEMaterial",
    "FEHeadModel",
    "skull_layer",
    "solve_motion",
    "strain_at_points",
]

# Label codes of a head mesh (and of a user's label NIfTI).
LABELS = {"outside": 0, "csf": 1, "grey_matter": 2, "white_matter": 3, "falx": 4}


def _f(x) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


class VoxelMesh(eqx.Module):
    """A structured hexahedral mesh: cube elements of side `element_size_mm` on a grid, one label each.

    Element (i, j, k) spans [origin + h (i, j, k), origin + h (i+1, j+1, k+1)] in MNI RAS [mm]. Labels:
    0 outside (the skull), 1 CSF (ventricles, sulci), 2 grey matter, 3 white matter, 4 falx (dura,
    deformable; fixed where it meets the skull).

    `sas_thickness_mm` [mm]: None ties every node that touches an outside cell to the skull. A thickness t
    ties the boundary of the labelled region (the brain envelope) to the skull through an elastic
    subarachnoid layer of thickness t instead (CSF of `FEMaterial`: normal stiffness (K + 4/3 G) / t and
    tangential G / t per area, half its mass on the boundary nodes); only falx nodes on the boundary are
    then fixed.
    """

    labels: Int[Array, "nx ny nz"]
    origin_mm: Float[Array, " 3"]
    element_size_mm: float = eqx.field(static=True)
    sas_thickness_mm: float | None = eqx.field(static=True, default=None)
    # reference nodes minus grid nodes [mm] (None: every node on the grid); `mesh.smooth_mesh` moves the
    # envelope's boundary nodes onto the smooth skull surface
    node_offset_mm: Float[Array, "3 nx1 ny1 nz1"] | None = None
    # the skull surface: the envelope's staircase rounded by a Gaussian of sigma = skull_smoothing x h
    skull_smoothing: float = eqx.field(static=True, default=0.5)

    def __check_init__(self):
        if self.labels.ndim != 3:
            raise ValueError(f"VoxelMesh.labels: need a 3-D label grid, got shape {self.labels.shape}")
        if self.origin_mm.shape != (3,):
            raise ValueError(f"VoxelMesh.origin_mm: need shape (3,), got {self.origin_mm.shape}")
        if not self.element_size_mm > 0:
            raise ValueError(f"VoxelMesh.element_size_mm: need > 0, got {self.element_size_mm}")
        if self.sas_thickness_mm is not None and not self.sas_thickness_mm > 0:
            raise ValueError(f"VoxelMesh.sas_thickness_mm: need None or > 0, got {self.sas_thickness_mm}")
        if self.node_offset_mm is not None:
            want = (3, *(int(n) + 1 for n in self.labels.shape))
            if tuple(self.node_offset_mm.shape) != want:
                raise ValueError(
                    f"VoxelMesh.node_offset_mm: need shape {want} (3 x the node grid), got "
                    f"{tuple(self.node_offset_mm.shape)}"
                )

    @property
    def grid_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.labels.shape)

    def counts(self) -> dict[str, int]:
        """Elements per label and the numbers of nodes (all, free), from concrete labels."""
        lab = np.asarray(self.labels)
        out = {name: int(np.sum(lab == code)) for name, code in LABELS.items() if code > 0}
        deform = np.isin(lab, fe.DEFORMABLE_LABELS)
        out["elements"] = int(deform.sum())
        used = np.zeros(tuple(s + 1 for s in lab.shape), bool)
        for ax, ay, az in fe.CORNERS:
            used[ax : ax + lab.shape[0], ay : ay + lab.shape[1], az : az + lab.shape[2]] |= lab > 0
        out["nodes"] = int(used.sum())
        free = fe.free_node_mask(jnp.asarray(lab), interface=self.sas_thickness_mm is not None)
        out["free_nodes"] = int(np.asarray(free).sum())
        return out


class FEMaterial(eqx.Module):
    """Brain and CSF constants (hyper-viscoelastic brain, soft nearly incompressible CSF).

    Deviatoric neo-Hookean with one Prony term per tissue (G(t) = G_inf + (G_0 - G_inf) exp(-beta t), the
    Kelvin-Maxwell form of LS-DYNA MAT_061 used by the GHBMC and THUMS brains), volumetric U = K/2 (J-1)^2.

    | field | default | unit | source |
    |---|---|---|---|
    | `brain_density_kg_m3` | 1,040 | kg/m^3 | Kleiven 2007 (KTH); GHBMC/THUMS 1,000 (SCIENCE.md §6) [read] |
    | `csf_density_kg_m3` | 1,000 | kg/m^3 | water [inferred] |
    | `bulk_modulus_mpa` | 2.19 | MPa | chosen by the bulk-modulus study (docs/fe.md): MPS95 and fiber-strain |
    |  |  |  | p95 within 2.6 % of K = 2,190 MPa (GHBMC [read]) on the 6 mm mesh, 3 axes |
    | `gm_shear_inst_kpa` | 6.0 | kPa | GHBMC grey matter G_0 (SCIENCE.md §6) [read] |
    | `gm_shear_inf_kpa` | 1.2 | kPa | GHBMC grey matter G_inf [read] |
    | `wm_shear_inst_kpa` | 7.5 | kPa | GHBMC white matter G_0 [read] |
    | `wm_shear_inf_kpa` | 1.5 | kPa | GHBMC white matter G_inf [read] |
    | `decay_rate_per_s` | 80 | 1/s | Kelvin-Maxwell decay constant of the WSU/GHBMC brain lineage |
    |  |  |  | [recalled, not checked against the source] |
    | `csf_shear_kpa` | 0.5 | kPa | soft-solid CSF lead (issue 16) [inferred]; THUMS/GHBMC: elastic fluid; |
    |  |  |  | the CSF elements (ventricles, sulci) |
    | `sas_shear_kpa` | 0.5 | kPa | shear modulus of the subarachnoid layer (`VoxelMesh.sas_thickness_mm`; |
    |  |  |  | CSF plus trabeculae): k_t = G / t. Default = `csf_shear_kpa` [inferred]: no |
    |  |  |  | measured value in SCIENCE.md; its sensitivity is in docs/fe.md |
    | `falx_shear_kpa` | 10,860 | kPa | dura E = 31.5 MPa (GHBMC, SCIENCE.md §6) [read], nu = 0.45 |
    |  |  |  | [inferred]: G = E / (2 (1 + nu)) |
    | `falx_thickness_mm` | 1.0 | mm | falx thickness [inferred]; the falx cells (one element thick) get |
    |  |  |  | G * min(1, t / h), the membrane stiffness E t of the real sheet |
    | `hourglass_scale` | 1.0 | - | 1 = hourglass part of the fully integrated deviatoric cube (B-bar) |

    All fields are arrays: `jax.grad` w.r.t. any of them works (the time step stays that of the model).
    """

    brain_density_kg_m3: Float[Array, ""] = eqx.field(converter=_f, default=1040.0)
    csf_density_kg_m3: Float[Array, ""] = eqx.field(converter=_f, default=1000.0)
    bulk_modulus_mpa: Float[Array, ""] = eqx.field(converter=_f, default=2.19)
    gm_shear_inst_kpa: Float[Array, ""] = eqx.field(converter=_f, default=6.0)
    gm_shear_inf_kpa: Float[Array, ""] = eqx.field(converter=_f, default=1.2)
    wm_shear_inst_kpa: Float[Array, ""] = eqx.field(converter=_f, default=7.5)
    wm_shear_inf_kpa: Float[Array, ""] = eqx.field(converter=_f, default=1.5)
    decay_rate_per_s: Float[Array, ""] = eqx.field(converter=_f, default=80.0)
    csf_shear_kpa: Float[Array, ""] = eqx.field(converter=_f, default=0.5)
    sas_shear_kpa: Float[Array, ""] = eqx.field(converter=_f, default=0.5)
    falx_shear_kpa: Float[Array, ""] = eqx.field(converter=_f, default=10_860.0)
    falx_thickness_mm: Float[Array, ""] = eqx.field(converter=_f, default=1.0)
    hourglass_scale: Float[Array, ""] = eqx.field(converter=_f, default=1.0)

    def interface(self, thickness_mm: float, dtype=None) -> fe.Interface:
        """The subarachnoid layer of `thickness_mm` [mm]: K, `sas_shear_kpa`, `csf_density_kg_m3`."""
        dtype = dtype or self.bulk_modulus_mpa.dtype
        g = self.sas_shear_kpa.astype(dtype) * 1e-3  # kPa -> MPa
        k = self.bulk_modulus_mpa.astype(dtype)
        t = jnp.asarray(thickness_mm, dtype)
        return fe.Interface(
            normal_stiffness=(k + 4.0 / 3.0 * g) / t,
            shear_stiffness=g / t,
            areal_density=self.csf_density_kg_m3.astype(dtype) * 1e-6 * t,
        )

    def tables(self, dtype=None, element_size_mm: float | None = None) -> fe.LabelTables:
        """Constants per label (0-4) in the solver's units (g/mm^3, MPa, 1/ms); label 0 carries dummies.
        The falx (label 4) has the dura's shear modulus times min(1, falx thickness / `element_size_mm`)."""
        dtype = dtype or self.bulk_modulus_mpa.dtype

        def v(*xs):
            return jnp.stack([jnp.asarray(x, dtype) for x in xs])

        rho_b = self.brain_density_kg_m3.astype(dtype) * 1e-6  # kg/m^3 -> g/mm^3
        rho_c = self.csf_density_kg_m3.astype(dtype) * 1e-6
        k = self.bulk_modulus_mpa.astype(dtype)
        kpa = 1e-3  # kPa -> MPa
        g_csf = self.csf_shear_kpa * kpa
        falx_fraction = (
            1.0
            if element_size_mm is None
            else jnp.minimum(1.0, self.falx_thickness_mm / float(element_size_mm))
        )
        g_inf = v(
            0.0,
            g_csf,
            self.gm_shear_inf_kpa * kpa,
            self.wm_shear_inf_kpa * kpa,
            self.falx_shear_kpa * kpa * falx_fraction,
        )
        g_1 = v(
            0.0,
            0.0,
            (self.gm_shear_inst_kpa - self.gm_shear_inf_kpa) * kpa,
            (self.wm_shear_inst_kpa - self.wm_shear_inf_kpa) * kpa,
            0.0,
        )
        beta = self.decay_rate_per_s.astype(dtype) * 1e-3  # 1/s -> 1/ms
        return fe.LabelTables(
            density=v(rho_b, rho_c, rho_b, rho_b, rho_b),
            bulk=v(k, k, k, k, k),
            shear_inf=g_inf,
            shear_terms=g_1[:, None],
            decay=v(beta, beta, beta, beta, beta)[:, None],
            hourglass_scale=self.hourglass_scale.astype(dtype),
        )


def skull_layer(
    mesh: VoxelMesh, dtype=None, anchor_falx: bool = True, partition: np.ndarray | None = None
) -> fe.Layer:
    """The subarachnoid layer's geometry on `mesh` (host-side, from concrete labels): the free nodes of the
    envelope's boundary, their areas, and the smooth skull surface (`_fe_mesh.skull_distance`).

    `partition` (nx, ny, nz bool): rigid dural cells (label 0 in `mesh`) that the brain slides along
    through the layer, like the skull (the falx of `FEHeadModel(falx="sliding")`)."""
    from axojax.headmodel._fe_mesh import boundary_area_vectors, skull_distance  # scipy: build time only

    dtype = dtype or jnp.result_type(float)
    lab = np.asarray(mesh.labels)
    h = mesh.element_size_mm
    inside = np.isin(lab, fe.DEFORMABLE_LABELS)
    offset = None if mesh.node_offset_mm is None else np.asarray(mesh.node_offset_mm, np.float64)
    area = np.linalg.norm(boundary_area_vectors(inside, h, offset), axis=0)
    free = np.asarray(fe.free_node_mask(jnp.asarray(lab), interface=True, anchor_falx=anchor_falx))
    node = np.flatnonzero((area > 0) & free)
    if node.size == 0:
        raise ValueError("skull_layer: the mesh's envelope has no free boundary node")
    if partition is not None:
        partition = np.asarray(partition, bool)
        if partition.shape != lab.shape or np.any(partition & inside):
            raise ValueError("skull_layer: the partition must be outside cells (label 0) of the mesh's grid")
    phi, phi_origin, spacing = skull_distance(inside, h, smoothing=mesh.skull_smoothing, partition=partition)
    pos = np.stack(np.unravel_index(node, area.shape)).astype(np.float64) * h  # (3, nb) [mm]
    if offset is not None:
        pos = pos + offset.reshape(3, -1)[:, node]
    layer = fe.Layer(
        node=jnp.asarray(node, jnp.int32),
        area=jnp.asarray(area.reshape(-1)[node], dtype),
        position=jnp.asarray(pos, dtype),
        phi0=jnp.zeros(node.size, dtype),
        phi=jnp.asarray(phi, dtype),
        phi_origin=jnp.asarray(phi_origin, dtype),
        phi_spacing=float(spacing),
    )
    return eqx.tree_at(lambda lay: lay.phi0, layer, fe.skull_gap(layer, layer.position)[0])


def _cast_floats(tree, dtype):
    return jax.tree_util.tree_map(
        lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree
    )


def _kinematics_at(
    t_s: Float[Array, " time"], acc: Float[Array, "time 3"], vel0: Float[Array, " 3"]
) -> tuple[Float[Array, "time 3"], Float[Array, "time-1 3"]]:
    """Angular velocity at the samples (exact integral of the piecewise-linear α from `vel0`) and slopes."""
    dt = t_s[1:] - t_s[:-1]
    vel = jnp.concatenate(
        [vel0[None], vel0[None] + jnp.cumsum(0.5 * (acc[1:] + acc[:-1]) * dt[:, None], axis=0)]
    )
    slope = (acc[1:] - acc[:-1]) / dt[:, None]
    return vel, slope


def solve_motion(
    mesh: VoxelMesh,
    tables: fe.LabelTables,
    t_ms: Float[Array, " time"],
    ang_acc_rad_ms2: Float[Array, "time 3"],
    *,
    centre_mm: Float[Array, " 3"],
    substeps: int,
    labels_present: tuple[int, ...],
    lin_acc_mm_ms2: Float[Array, "time 3"] | None = None,
    checkpoint: bool = True,
    interface: fe.Interface | None = None,
    layer: fe.Layer | None = None,
    step_gain: float = 1.0,
    cells: Int[Array, " ne"] | None = None,
    check_inversion: bool = True,
    gauss: Int[Array, " ng"] | None = None,
    anchor_falx: bool = True,
) -> Float[Array, "time 3 nx1 ny1 nz1"]:
    """Nodal displacement history [mm] (skull frame, RAS) at the sample times, from rest at t_ms[0].

    Between two samples the skull's angular acceleration (and linear acceleration, if given) is linear in
    time and its angular velocity the exact integral; `substeps` central-difference steps of equal length
    span each interval. Each interval is a `jax.checkpoint` block, so reverse-mode memory grows with the
    number of samples, not of steps. `interface` and `layer`: the subarachnoid layer's stiffness and
    geometry (`skull_layer`) on the mesh's boundary (None: the boundary is fixed to the skull).
    `step_gain`: the assembled mesh's critical step over the element bound, measured at build time
    (`FEHeadModel`, `_fe_solver.assembled_critical_step`); the run-time stability check scales the element
    bound of `tables` by it (exact when the moduli scale uniformly). `cells`: `_fe_solver.deforming_cells`
    of the mesh (stresses on those cells only; the same numbers, faster); None computes on the whole grid.
    `gauss`: cells whose deviatoric stress is integrated at 2 x 2 x 2 Gauss points
    (`_fe_solver.element_fields`; `FEHeadModel(integration=)`).

    Raises (at run time, `eqx.error_if`): a step longer than the critical step of `tables` on the labels
    `labels_present` (unstable: sample interval too long, or a stiffer material than the model was built
    for), a non-finite displacement, or an inverted element (a corner Jacobian <= 0 at any sample,
    `_fe_solver.min_corner_jacobian`: the one-point stress can stay finite there, the strain would not be
    the brain's; skipped with `check_inversion=False`). Both failures say "diverged".
    """
    dtype = ang_acc_rad_ms2.dtype
    h = mesh.element_size_mm
    labels = mesh.labels
    fields = fe.element_fields(
        labels,
        tables,
        mesh.origin_mm.astype(dtype),
        centre_mm.astype(dtype),
        h,
        interface,
        None if layer is None else _cast_floats(layer, dtype),
        cells,
        gauss,
        None if mesh.node_offset_mm is None else mesh.node_offset_mm.astype(dtype),
        anchor_falx=anchor_falx,
    )
    vel, slope = _kinematics_at(t_ms, ang_acc_rad_ms2, jnp.zeros(3, dtype))
    if lin_acc_mm_ms2 is None:
        lin_acc_mm_ms2 = jnp.zeros_like(ang_acc_rad_ms2)
    lin_slope = (lin_acc_mm_ms2[1:] - lin_acc_mm_ms2[:-1]) / (t_ms[1:] - t_ms[:-1])[:, None]
    intervals = t_ms[1:] - t_ms[:-1]
    dts = intervals / substeps
    dt_crit = step_gain * fe.critical_step(
        fields, fe.stable_time_step(tables, jnp.asarray(labels_present), h)
    )
    dts = eqx.error_if(
        dts,
        jnp.any(dts > dt_crit),
        "FEHeadModel: the explicit step exceeds the stable step: a sample interval longer than the "
        "model's max_sample_interval_s, or a stiffer material than the model was built with; resample "
        "the impact or rebuild the model",
    )

    def interval(state, inputs):
        dt, a0, da, w0, l0, dl = inputs

        def sub(st, j):
            tau = j.astype(dtype) * dt
            loads = fe.Loads(
                ang_vel=w0 + a0 * tau + 0.5 * da * tau**2, ang_acc=a0 + da * tau, lin_acc=l0 + dl * tau
            )
            return fe.step(fields, st, loads, dt), None

        state, _ = jax.lax.scan(sub, state, jnp.arange(substeps))
        jac = fe.min_corner_jacobian(jax.lax.stop_gradient(state.u), h, fields.deform, fields.offset)
        return state, (state.u, jac)

    body = jax.checkpoint(interval) if checkpoint else interval
    n_cells = None if cells is None else cells.shape[0]
    n_gauss = 0 if gauss is None else gauss.shape[0]
    state0 = fe.init_state(labels, tables.shear_terms.shape[-1], dtype, n_cells, n_gauss)
    xs = (dts, ang_acc_rad_ms2[:-1], slope, vel[:-1], lin_acc_mm_ms2[:-1], lin_slope)
    _, (us, jacs) = jax.lax.scan(body, state0, xs)
    us = jnp.concatenate([state0.u[None], us], axis=0)
    us = eqx.error_if(us, ~jnp.all(jnp.isfinite(us)), "FEHeadModel: the explicit solve diverged (NaN/inf)")
    if not check_inversion:
        return us
    return eqx.error_if(
        us,
        jnp.any(jacs <= 0.0),
        "FEHeadModel: the explicit solve diverged: an element inverted (a corner Jacobian <= 0 at a sample), "
        "so the mesh no longer follows the brain; this impact is beyond what the model solves (docs/fe.md)",
    )


# labels a strain point reads its strain from when one lies beside it: brain tissue (grey and white matter)
TISSUE_LABELS = (2, 3)


def _point_weights(
    mesh: VoxelMesh, coords_mm: Float[Array, "vox 3"], host_labels: tuple[int, ...] | None = TISSUE_LABELS
) -> tuple[Int[Array, "vox 8"], Float[Array, "vox 8 3"], Array]:
    """Flat node indices of each point's element, trilinear shape-function gradients [1/mm], and whether
    the point is in the mesh.

    A point takes the strain of the nearest point of the nearest cell with a label in `host_labels` among
    the 27 cells around it (its own cell first): a white-matter voxel that falls in a CSF or falx element
    of the coarser mesh reads the strain of the brain tissue beside it, not of the ventricle's soft solid.
    With no such cell there (or `host_labels` None), a point takes its own cell, and a point in an outside
    cell that shares a face with a mesh cell the nearest point of that cell (the voxel surface of the mesh
    cuts through the boundary voxels of a brain map); points farther out are not in the mesh."""
    h = mesh.element_size_mm
    dtype = coords_mm.dtype
    shape = jnp.asarray(mesh.grid_shape, jnp.int32)
    xi = (coords_mm - mesh.origin_mm.astype(dtype)[None]) / h
    base = jnp.floor(xi).astype(jnp.int32)
    face = [[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]
    rest = [[a, b, c] for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1) if [a, b, c] not in face]
    offsets = jnp.asarray(face + rest, jnp.int32)  # the 7 face candidates first, then the other 20
    cand = jnp.clip(base[:, None, :] + offsets[None], 0, (shape - 1)[None, None])  # (vox, 27, 3)
    lab = mesh.labels[cand[..., 0], cand[..., 1], cand[..., 2]]  # (vox, 27)
    gap = xi[:, None, :] - jnp.clip(xi[:, None, :], cand.astype(dtype), cand.astype(dtype) + 1.0)
    dist = jnp.sum(gap**2, axis=-1) + jnp.arange(27, dtype=dtype)[None] * 1e-6  # ties: own cell first
    inside_box = jnp.all((xi >= -1.0) & (xi <= shape.astype(dtype)[None] + 1.0), axis=-1)
    in_mesh = lab[:, :7] > 0
    pick = jnp.argmin(jnp.where(in_mesh, dist[:, :7], jnp.inf), axis=-1)
    if host_labels is not None:
        host = jnp.isin(lab, jnp.asarray(host_labels, lab.dtype))
        pick = jnp.where(jnp.any(host, axis=-1), jnp.argmin(jnp.where(host, dist, jnp.inf), axis=-1), pick)
    cell = jnp.take_along_axis(cand, pick[:, None, None], axis=1)[:, 0]
    ok = inside_box & jnp.any(in_mesh, axis=-1)
    r = jnp.clip(xi - cell.astype(dtype), 0.0, 1.0)
    corners = jnp.asarray(fe.CORNERS, jnp.int32)  # (8, 3)
    node = cell[:, None, :] + corners[None]  # (vox, 8, 3)
    n1 = shape + 1
    flat = (node[..., 0] * n1[1] + node[..., 1]) * n1[2] + node[..., 2]
    w = jnp.where(corners[None].astype(bool), r[:, None, :], 1.0 - r[:, None, :])  # (vox, 8, 3)
    s = 2.0 * corners.astype(dtype) - 1.0
    grad = (
        jnp.stack(
            [
                s[None, :, 0] * w[..., 1] * w[..., 2],
                s[None, :, 1] * w[..., 0] * w[..., 2],
                s[None, :, 2] * w[..., 0] * w[..., 1],
            ],
            axis=-1,
        )
        / h
    )
    return flat, grad, ok


def point_cell_values(
    mesh: VoxelMesh,
    values: Array,
    coords_mm: Float[Array, "vox 3"],
    host_labels: tuple[int, ...] | None = TISSUE_LABELS,
) -> Array:
    """values[cell] of the element each point reads its strain from (the element `strain_at_points` uses)."""
    flat, _, _ = _point_weights(mesh, coords_mm, host_labels)
    n1 = jnp.asarray(mesh.grid_shape, jnp.int32) + 1
    node = flat[:, 0]  # corner (0, 0, 0) of the point's cell
    i, rest = node // (n1[1] * n1[2]), node % (n1[1] * n1[2])
    j, k = rest // n1[2], rest % n1[2]
    return values[i, j, k]


def strain_at_points(
    mesh: VoxelMesh,
    motion: Float[Array, "time 3 nx1 ny1 nz1"],
    coords_mm: Float[Array, "vox 3"],
    host_labels: tuple[int, ...] | None = TISSUE_LABELS,
) -> Float[Array, "vox time 3 3"]:
    """Green-Lagrange strain [-] at arbitrary points from the element shape functions (not the centroid).

    F = I + sum_a u_a (x) grad N_a(x) with the trilinear N of the cube the point reads (`_point_weights`):
    by default the brain tissue (`TISSUE_LABELS`) nearest the point, so that a white-matter voxel in a CSF
    or falx element reads the tissue's strain; `host_labels=None`: the cube that holds the point. In a
    smoothed mesh (`VoxelMesh.node_offset_mm`) the point keeps its natural coordinates in its grid cell
    and grad N is taken on the moved cell (the point moves with the cell's boundary nodes, by < h / 2).

    Raises (at run time): a point outside the mesh (farther than a face-adjacent outside cell).
    """
    dtype = motion.dtype
    flat, grad, ok = _point_weights(mesh, coords_mm.astype(dtype), host_labels)
    u = motion.reshape(*motion.shape[:2], -1)  # (time, 3, nodes)
    corner_u = u[:, :, flat]  # (time, 3, vox, 8)
    hgrad = jnp.einsum("tiva,vaj->ijvt", corner_u, grad)
    if mesh.node_offset_mm is not None:  # du/dX = (du/dX_cube) (dX/dX_cube)^-1 in a moved cell
        off = mesh.node_offset_mm.astype(dtype).reshape(3, -1)[:, flat]  # (3, vox, 8)
        jac = jnp.eye(3, dtype=dtype)[None] + jnp.einsum("iva,vaj->vij", off, grad)
        hgrad = jnp.einsum("ikvt,vkj->ijvt", hgrad, jnp.linalg.inv(jac))
    e = jnp.moveaxis(fe.green_lagrange_from_grad(hgrad), (0, 1), (2, 3))
    return eqx.error_if(e, ~jnp.all(ok), "FEHeadModel: a strain point lies outside the head mesh")


def distorted_cells(mesh: VoxelMesh) -> np.ndarray:
    """Flat indices of the deforming cells with a moved node (`VoxelMesh.node_offset_mm` != 0), host-side."""
    lab = np.asarray(mesh.labels)
    if mesh.node_offset_mm is None:
        return np.zeros(0, np.int64)
    moved = np.any(np.asarray(mesh.node_offset_mm) != 0.0, axis=0)
    nx, ny, nz = lab.shape
    touch = np.zeros(lab.shape, bool)
    for a, b, c in fe.CORNERS.tolist():
        touch |= moved[a : a + nx, b : b + ny, c : c + nz]
    return np.flatnonzero(touch & np.asarray(fe.deformable_mask(jnp.asarray(lab))))


class FEHeadModel(AbstractHeadModel):
    """Finite-element brain: explicit total-Lagrangian dynamics of a voxel hexahedral mesh of the head.

    The skull is rigid and moves with the impact; the brain, CSF and the falx are meshed from the MNI
    ICBM152 2009 anatomy (`FEHeadModel()`, element size 4 mm) or from a label grid (`mesh=`). The solve
    runs in the skull frame under the inertial loads of the head's rotation (angular acceleration, and the
    centrifugal and Coriolis terms of its angular velocity, integrated from rest). See docs/fe.md.

    Args:
        mesh: the head mesh; None builds the embedded MNI mesh at `element_size_mm`.
        material: brain and CSF constants (`FEMaterial`).
        element_size_mm: element size of the default mesh [mm] (6, 4, 3 or 2 tested).
        max_sample_interval_s: longest sample interval of the impacts this model will see [s] (1 ms:
            the pipeline's grid); it fixes the number of explicit steps per interval.
        centre_mm: centre of rotation, MNI RAS [mm] (the head's centre of gravity; an offset adds only a
            uniform, pressure-like body force).
        safety: fraction of the critical step used [-].
        time_step: "assembled" (default) takes the critical step of the assembled mesh and layer at rest
            (`_fe_solver.assembled_critical_step`, Lanczos at build time; 1.5x the element bound at 4 mm,
            1.7x at 6 mm) times `deformation_margin`, or the element bound (Irons) if that is longer;
            "element" the element bound alone (also the fallback when Lanczos has not converged).
        deformation_margin: fraction of the at-rest assembled step kept for the stiffening of the
            deformed mesh [-] (docs/fe.md: its largest eigenvalue grew 1.51x on the 6 mm MNI brain at
            DAMAGE 0.40 and 1.65x in a tied box head with a 10 mm CSF shell; 0.8 allows 1.56x before
            the safety factor, 1.93x with it).
        allow_inverted: return the solve even when an element inverts (a corner Jacobian <= 0 at a
            sample; by default that stops the solve with "diverged"). The strain inside such elements is
            not the brain's; on the 4 mm mesh a DAMAGE 0.24 pulse transiently inverts 1-3 of its 28,366
            elements, on the surface (docs/fe.md). `inverted_points` says which brain points lie in
            such an element.
        integration: where the deviatoric stress is integrated at the element's 2 x 2 x 2 Gauss points
            with the full nonlinear law instead of one point plus the linear hourglass term (the same
            element at small strain; the volumetric stress stays at the centre): "reduced" (default)
            none; "surface" the envelope's outermost layer (`_fe_solver.surface_cells`), where the
            staircase meets the skull and elements invert first (1.4x the cost per step at 4 mm); "full"
            every deforming cell (3.8x). docs/fe.md gives what each solves. Cells with moved nodes
            (`VoxelMesh.node_offset_mm`, `mesh.smooth_mesh`) are always Gauss-integrated.
        falx: how the falx (label 4) meets the brain. "anchored" (default): falx elements share their
            nodes with the brain and the falx nodes that touch the skull are fixed (the falx is a fold of
            the dura), so the brain is pinned where the falx meets the skull. "hanging": the same
            elements, but those nodes hang in the subarachnoid layer like the rest of the envelope.
            "sliding": the falx is a rigid partition of the skull (its in-plane stiffness, dura E = 31.5
            MPa, is ~4,000x the brain's shear modulus) and the brain slides along both its faces through
            the subarachnoid layer, as along the skull; the falx cells become outside cells (label 0) of
            `self.mesh` and strain points in them take the nearest brain cell's strain.
        surface: "staircase" (default) keeps the voxel mesh as built; "smooth" moves the envelope's
            boundary nodes onto the smooth skull surface the layer slides on (`mesh.smooth_mesh`; the
            moved cells are Gauss-integrated, ~3x the cost per step at 6 mm): the brain's surface follows
            the skull instead of a staircase of element-size steps. Needs the subarachnoid layer.
    """

    mesh: VoxelMesh
    material: FEMaterial
    centre_mm: Float[Array, " 3"]
    head_to_ras: Float[Array, "3 3"]
    substeps: int = eqx.field(static=True)
    dt_crit_ms: float = eqx.field(static=True)
    deformable_labels: tuple[int, ...] = eqx.field(static=True)
    max_sample_interval_s: float = eqx.field(static=True)
    checkpoint: bool = eqx.field(static=True)
    step_gain: float = eqx.field(static=True)
    allow_inverted: bool = eqx.field(static=True)
    damage_model: ReducedHeadModel
    layer: fe.Layer | None
    cells: Int[Array, " ne"]
    gauss: Int[Array, " ng"] | None
    integration: str = eqx.field(static=True)
    falx: str = eqx.field(static=True)
    surface: str = eqx.field(static=True)

    def __init__(
        self,
        mesh: VoxelMesh | None = None,
        material: FEMaterial | None = None,
        *,
        element_size_mm: float = 4.0,
        max_sample_interval_s: float = 1e-3,
        centre_mm=(0.0, -18.0, 18.0),
        safety: float = 0.9,
        checkpoint: bool = True,
        time_step: str = "assembled",
        deformation_margin: float = 0.8,
        allow_inverted: bool = False,
        integration: str = "reduced",
        falx: str = "anchored",
        surface: str = "staircase",
    ):
        if mesh is None:
            from axojax.headmodel.mesh import mni_head_mesh  # io edge: reads the anatomy once

            mesh = mni_head_mesh(element_size_mm)
        if surface not in ("staircase", "smooth"):
            raise ValueError(f'FEHeadModel: surface must be "staircase" or "smooth", got {surface!r}')
        if surface == "smooth" and mesh.node_offset_mm is None:
            if mesh.sas_thickness_mm is None:
                raise ValueError(
                    'FEHeadModel: surface="smooth" needs the subarachnoid layer (sas_thickness_mm)'
                )
            from axojax.headmodel.mesh import smooth_mesh

            mesh = smooth_mesh(mesh)
        if falx not in ("anchored", "hanging", "sliding"):
            raise ValueError(f'FEHeadModel: falx must be "anchored", "hanging" or "sliding", got {falx!r}')
        self.falx = falx
        partition = None
        if falx == "sliding":
            lab = np.asarray(mesh.labels)
            partition = lab == 4
            if mesh.sas_thickness_mm is None:
                raise ValueError(
                    'FEHeadModel: falx="sliding" needs the subarachnoid layer (sas_thickness_mm)'
                )
            solid = jnp.asarray(np.where(partition, 0, lab), jnp.int32)
            mesh = eqx.tree_at(lambda m: m.labels, mesh, solid)
        self.mesh = mesh
        self.surface = "staircase" if mesh.node_offset_mm is None else "smooth"
        self.material = FEMaterial() if material is None else material
        self.centre_mm = _f(centre_mm)
        self.head_to_ras = _f(((0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, -1.0)))
        if not 0 < safety <= 1:
            raise ValueError(f"FEHeadModel: safety must be in (0, 1], got {safety}")
        if not max_sample_interval_s > 0:
            raise ValueError(f"FEHeadModel: max_sample_interval_s must be > 0, got {max_sample_interval_s}")
        dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
        self.layer = (
            None if mesh.sas_thickness_mm is None else skull_layer(mesh, dtype, self.anchor_falx, partition)
        )
        self.cells = fe.deforming_cells(mesh.labels)
        if integration not in ("reduced", "surface", "full"):
            raise ValueError(
                f'FEHeadModel: integration must be "reduced", "surface" or "full", got {integration!r}'
            )
        self.integration = integration
        pick = {"reduced": None, "surface": fe.surface_cells, "full": fe.deforming_cells}[integration]
        gauss = np.zeros(0, np.int64) if pick is None else np.asarray(pick(mesh.labels))
        offset = None if mesh.node_offset_mm is None else np.asarray(mesh.node_offset_mm).astype(dtype)
        if offset is not None:  # cells with a moved node are general hexahedra: Gauss-integrated
            gauss = np.union1d(gauss, distorted_cells(mesh))
        self.gauss = None if gauss.size == 0 else jnp.asarray(gauss, jnp.int32)
        tables = self.material.tables(dtype, mesh.element_size_mm)
        present = np.unique(np.asarray(mesh.labels))
        present = present[np.isin(present, fe.DEFORMABLE_LABELS)]
        if present.size == 0:
            raise ValueError("FEHeadModel: the mesh has no deformable element (labels 1-4)")
        fields = fe.element_fields(
            mesh.labels,
            tables,
            mesh.origin_mm.astype(dtype),
            jnp.zeros(3, dtype),
            mesh.element_size_mm,
            self._interface(dtype),
            self.layer,
            self.cells,
            self.gauss,
            None if offset is None else jnp.asarray(offset),
            anchor_falx=self.anchor_falx,
        )
        if time_step not in ("assembled", "element"):
            raise ValueError(f'FEHeadModel: time_step must be "assembled" or "element", got {time_step!r}')
        if not 0 < deformation_margin <= 1:
            raise ValueError(f"FEHeadModel: deformation_margin must be in (0, 1], got {deformation_margin}")
        dt_el = fe.stable_time_step(tables, jnp.asarray(present), mesh.element_size_mm)
        dt_bound = float(fe.critical_step(fields, dt_el))
        gain = 1.0
        if offset is not None:
            # the element bound is a cube's: for moved nodes scale it by the smallest element's size
            # (cube root of the smallest corner Jacobian), the fallback if Lanczos does not converge
            from axojax.headmodel._fe_mesh import corner_jacobians

            jac = corner_jacobians(np.asarray(offset, np.float64), mesh.element_size_mm).min(axis=0)
            gain = float(np.min(jac[np.asarray(fe.deformable_mask(mesh.labels))])) ** (1.0 / 3.0)
        if time_step == "assembled":
            dt_mesh, rel = fe.assembled_critical_step(fields)
            if float(rel) < 1e-2:
                gain = deformation_margin * float(dt_mesh) / dt_bound
                if offset is None:  # the element bound holds for cubes: never go below it
                    gain = max(1.0, gain)
        self.step_gain = gain
        dt = dt_bound * gain * safety
        interval_ms = max_sample_interval_s * 1e3
        self.substeps = max(1, math.ceil(interval_ms / dt))
        self.dt_crit_ms = dt / safety
        self.deformable_labels = tuple(int(x) for x in present)
        self.max_sample_interval_s = float(max_sample_interval_s)
        self.checkpoint = bool(checkpoint)
        self.allow_inverted = bool(allow_inverted)
        self.damage_model = ReducedHeadModel()

    @property
    def anchor_falx(self) -> bool:
        """Whether the falx nodes on the skull are fixed (`falx="anchored"`)."""
        return self.falx == "anchored"

    @property
    def time_step_s(self) -> float:
        """The explicit step used for a sample interval of `max_sample_interval_s` [s]."""
        return self.max_sample_interval_s / self.substeps

    def damage(self, t_s: Float[Array, " time"], ang_acc_rad_s2: Float[Array, "time 3"]) -> Float[Array, ""]:
        """DAMAGE [-] of the impact (Gabler 2019; a kinematic metric, the same as `ReducedHeadModel`'s)."""
        return self.damage_model.damage(t_s, ang_acc_rad_s2)

    def motion(
        self, t_s: Float[Array, " time"], ang_acc_rad_s2: Float[Array, "time 3"]
    ) -> Float[Array, "time 3 nx1 ny1 nz1"]:
        """Nodal displacement history [mm] relative to the skull (RAS) at the input times, from rest."""
        dtype = ang_acc_rad_s2.dtype
        t_ms = t_s.astype(dtype) * 1e3
        acc = (ang_acc_rad_s2 @ self.head_to_ras.astype(dtype).T) * 1e-6  # rad/s^2 -> rad/ms^2, RAS
        return solve_motion(
            self.mesh,
            self.material.tables(dtype, self.mesh.element_size_mm),
            t_ms,
            acc,
            centre_mm=self.centre_mm,
            substeps=self.substeps,
            labels_present=self.deformable_labels,
            checkpoint=self.checkpoint,
            interface=self._interface(dtype),
            layer=self.layer,
            step_gain=self.step_gain,
            cells=self.cells,
            check_inversion=not self.allow_inverted,
            gauss=self.gauss,
            anchor_falx=self.anchor_falx,
        )

    def _interface(self, dtype) -> fe.Interface | None:
        t = self.mesh.sas_thickness_mm
        return None if t is None else self.material.interface(t, dtype)

    @eqx.filter_jit
    def inverted_cells(self, motion: Float[Array, "time 3 nx1 ny1 nz1"]) -> Bool[Array, "nx ny nz"]:
        """Which cells inverted (a corner Jacobian <= 0) at any sample of `motion`."""
        offset = self.mesh.node_offset_mm
        deform = fe.deformable_mask(self.mesh.labels).astype(motion.dtype)

        def worst(carry, u):
            jac = fe.cell_corner_jacobians(u, self.mesh.element_size_mm, deform, offset)
            return jnp.minimum(carry, jac), None

        init = jnp.full(self.mesh.grid_shape, jnp.inf, motion.dtype)
        jac, _ = jax.lax.scan(worst, init, motion)
        return jac <= 0.0

    @eqx.filter_jit
    def points_in_cells(
        self, cells: Bool[Array, "nx ny nz"], coords_mm: Float[Array, "vox 3"]
    ) -> Bool[Array, " vox"]:
        """A per-cell flag (e.g. `inverted_cells`) at brain points (MNI RAS, mm), read from the cell whose
        strain each point takes (`strain_at_points`: its own, or the brain tissue beside it)."""
        return point_cell_values(self.mesh, cells, coords_mm)

    def inverted_points(
        self, motion: Float[Array, "time 3 nx1 ny1 nz1"], coords_mm: Float[Array, "vox 3"]
    ) -> Bool[Array, " vox"]:
        """Which brain points (MNI RAS, mm) lie in an element that inverted (a corner Jacobian <= 0) at any
        sample of `motion`: the points whose strain is not the brain's in a solve with `allow_inverted`."""
        return self.points_in_cells(self.inverted_cells(motion), coords_mm.astype(motion.dtype))

    def strain_from_motion(
        self, motion: Float[Array, "time 3 nx1 ny1 nz1"], coords_mm: Float[Array, "vox 3"]
    ) -> Float[Array, "vox time 3 3"]:
        """Green-Lagrange strain [-] at brain points (MNI RAS, mm) from a `motion` history: the strain of
        the brain tissue at (or, for a point in a CSF or falx element, beside) each point
        (`strain_at_points`)."""
        return strain_at_points(self.mesh, motion, coords_mm)
