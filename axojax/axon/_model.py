"""Numerics of the mechanistic axon model (pure jnp; no io, no validation, no Python loops over samples).

Quasi-static multiscale axon, in the axon stage units (um, ms, pN). Inertia is negligible (an
elastic wave crosses 10 um of MT in ~10 ns), so mechanical equilibrium is algebraic and is solved
inside the vector field; time dependence lives in viscous internal variables and damage.

Every component is a 1-D bar on a viscoelastic foundation, discretised with cell-centred finite
volumes on its half length (the loading is symmetric, so displacements are odd in x):

    (EA u')' = c(x) u - b(x),        u = displacement relative to the affine motion eps_f(t) x

* MT of length class c: foundation = tau cross-links to the (affinely moving) bundle,
  per-length density rho * phi (phi = intact fraction), each tau a standard linear solid:
  force f = k_l u + k_m (u - s_v), Maxwell branch d s_v/dt = (u - s_v)/tau_tau.
  Free ends: axial force EA (eps_f + u') = 0.  MT strain = eps_f + u'.
* Neurofilament: the same with NF side arms; NF failure when NF strain passes its failure strain.
* Axolemma/cortex: a bar over one MT (the longest class) plus half an MT-end gap on each side,
  tied elastically to the tissue (affine) and viscoelastically to the MT under it; v = 0 at the
  cell boundary (periodic cells). Over the gap nothing holds it back, so strain concentrates there.

Damage: tau hazard h = k_rupt * x^2/(w^2 + x^2), x = relu(|u - s_v| / s_c - 1) on the elastic (Maxwell)
slip, s_c the slip that strains a gap-spanning tau to its failure strain (`failure_slip_nm`), plus a
Bell-type term k_0 (cosh(f/F_b) - 1) (zero at zero force) capped at k_rupt (`bell_hazard`).
State psi = -log(phi) keeps phi in (0, 1] for any explicit step.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import _units
from ._params import AxonParams

_HAZARD_WIDTH = 0.25  # x at which the saturating hazard reaches half its rate [-]
_MAX_BELL_ARG = 30.0  # cosh argument clip (overflow guard; hazard is saturated well before)
_TINY_RATE = 1e-30  # [1/ms] keeps the capped Bell rate 0 (not 0/0) when k_0 = k_rupt = 0


class Grid(eqx.Module):
    """Static discretisation: node counts per component and the grading of MT/NF grids.

    Control-volume widths shrink geometrically by `grade` from the centre (x = 0) to the free
    end, where slip, tau failure and the axolemma strain concentrate.
    """

    n_mt: int = eqx.field(static=True, default=8)
    n_nf: int = eqx.field(static=True, default=8)
    n_gap: int = eqx.field(static=True, default=3)
    grade: float = eqx.field(static=True, default=0.8)

    def unit_widths(self, n: int, dtype) -> Array:
        """Control-volume widths of a graded grid on a unit half length, shape (n,)."""
        w = jnp.asarray(self.grade, dtype) ** jnp.arange(n, dtype=dtype)
        return w / jnp.sum(w)


class Internal(eqx.Module):
    """Parameters converted to the internal units (um, ms, pN) and derived quantities."""

    mt_ea: Array  # pN
    mt_half: Array  # (C,) half lengths um
    mt_w: Array  # (C,) number fractions
    tau_rho: Array  # 1/um
    tau_kl: Array  # pN/um
    tau_km: Array  # pN/um
    tau_relax: Array  # ms
    tau_stretch_fail: Array  # um, elastic stretch at failure
    tau_k_rupt: Array
    tau_k_bell: Array
    tau_f_bell: Array
    tau_k_on: Array
    bundle_coupling: Array  # [-] share of the bundle force per MT passed across an MT end gap
    gap_bypass: Array  # [-] stiffness of the paths bypassing a gap, per EA / lambda_0
    gap_decay: Array  # um, decay length of the gap opening along a bridging MT (shear lag, intact taus)
    nf_ea: Array
    nf_half: Array
    nf_rho: Array
    nf_kl: Array
    nf_km: Array
    nf_relax: Array
    nf_fail: Array
    nf_k_fail: Array
    ax_ea: Array
    ax_kl: Array
    ax_km: Array
    ax_relax: Array
    ax_ecm: Array
    gap_half: Array


def failure_slip_nm(span_nm: Array, failure_strain: Array) -> Array:
    """Axial slip [nm] that stretches a tau spanning the MT gap `span_nm` by `failure_strain` [-].

    The gap-spanning reading of Hasan et al. 2022 (tau as a fiber across the MT spacing of their RVE):
    an axial slip s between the MTs shears it to length sqrt(span^2 + s^2), so its fiber strain
    reaches gamma_c at s = span * sqrt((1 + gamma_c)^2 - 1) (0.98 span for gamma_c = 0.40; 28.4 nm for
    the 29 nm mid spacing). The default `tau_failure_slip_nm` is the contour reading instead (72 nm);
    docs/axon.md compares the two.
    """
    return span_nm * jnp.sqrt((1.0 + failure_strain) ** 2 - 1.0)


def to_internal(p: AxonParams) -> Internal:
    """Convert `AxonParams` (user units) to the internal unit system (um, ms, pN)."""
    k = _units.PN_PER_NM_TO_PN_PER_UM
    mt_ea = p.mt_youngs_modulus_gpa * p.mt_area_nm2 * _units.GPA_NM2_TO_PN
    return Internal(
        mt_ea=mt_ea,
        mt_half=0.5 * p.mt_lengths_um,
        mt_w=p.mt_length_fractions / jnp.sum(p.mt_length_fractions),
        tau_rho=p.tau_density_per_um,
        tau_kl=p.tau_stiffness_long_pn_per_nm * k,
        tau_km=(p.tau_stiffness_inst_pn_per_nm - p.tau_stiffness_long_pn_per_nm) * k,
        tau_relax=p.tau_relaxation_ms,
        tau_stretch_fail=p.tau_failure_slip_nm * _units.NM_TO_UM,
        tau_k_rupt=p.tau_rupture_rate_per_ms,
        tau_k_bell=p.tau_bell_rate_per_ms,
        tau_f_bell=p.tau_bell_force_pn,
        tau_k_on=p.tau_rebinding_rate_per_ms,
        bundle_coupling=p.mt_bundle_coupling,
        gap_bypass=p.mt_gap_bypass_fraction,
        gap_decay=jnp.sqrt(mt_ea / (p.tau_density_per_um * p.tau_stiffness_inst_pn_per_nm * k)),
        nf_ea=p.nf_youngs_modulus_mpa * p.nf_area_nm2 * _units.MPA_NM2_TO_PN,
        nf_half=0.5 * p.nf_length_um,
        nf_rho=p.nf_sidearm_density_per_um,
        nf_kl=p.nf_sidearm_stiffness_long_pn_per_nm * k,
        nf_km=(p.nf_sidearm_stiffness_inst_pn_per_nm - p.nf_sidearm_stiffness_long_pn_per_nm) * k,
        nf_relax=p.nf_sidearm_relaxation_ms,
        nf_fail=p.nf_failure_strain,
        nf_k_fail=p.nf_failure_rate_per_ms,
        ax_ea=p.axolemma_youngs_modulus_mpa * p.axolemma_area_nm2 * _units.MPA_NM2_TO_PN,
        ax_kl=p.axolemma_link_long_pn_per_um2,
        ax_km=p.axolemma_link_inst_pn_per_um2 - p.axolemma_link_long_pn_per_um2,
        ax_relax=p.axolemma_link_relaxation_ms,
        ax_ecm=p.axolemma_ecm_stiffness_pn_per_um2,
        gap_half=0.5 * p.mt_gap_um,
    )


class State(eqx.Module):
    """ODE state of one axon. Shapes: C MT classes, N MT nodes, M NF nodes."""

    tau_sv: Float[Array, "C N"]  # viscous slip of the tau Maxwell branch [um]
    tau_psi: Float[Array, "C N"]  # -log(intact tau fraction) [-]
    nf_q: Float[Array, " M"]  # viscous slip of NF side arms [um]
    nf_psi: Float[Array, " M"]  # -log(intact NF fraction) [-]
    ax_q: Float[Array, " N"]  # viscous elongation of axolemma-MT links [um]


def initial_state(n_classes: int, grid: Grid, dtype) -> State:
    """The undeformed, undamaged axon."""
    z = jnp.zeros
    return State(
        tau_sv=z((n_classes, grid.n_mt), dtype),
        tau_psi=z((n_classes, grid.n_mt), dtype),
        nf_q=z((grid.n_nf,), dtype),
        nf_psi=z((grid.n_nf,), dtype),
        ax_q=z((grid.n_mt,), dtype),
    )


def thomas(lower: Array, diag: Array, upper: Array, rhs: Array) -> Array:
    """Solve tridiagonal systems over the last axis (unrolled Thomas algorithm; small static n).

    lower[i] multiplies x[i-1] (lower[0] unused), upper[i] multiplies x[i+1] (upper[-1] unused).
    The systems here are diagonally dominant, so no pivoting is needed. The node axis is moved to
    the front so each unrolled step works on contiguous batch vectors.
    """
    lower, diag, upper, rhs = (jnp.moveaxis(a, -1, 0) for a in (lower, diag, upper, rhs))
    n = diag.shape[0]
    c_prime = [upper[0] / diag[0]]
    d_prime = [rhs[0] / diag[0]]
    for i in range(1, n):
        denom = diag[i] - lower[i] * c_prime[i - 1]
        c_prime.append(upper[i] / denom)
        d_prime.append((rhs[i] - lower[i] * d_prime[i - 1]) / denom)
    x = [d_prime[-1]]
    for i in range(n - 2, -1, -1):
        x.append(d_prime[i] - c_prime[i] * x[-1])
    return jnp.moveaxis(jnp.stack(x[::-1], axis=0), 0, -1)


def _bar_solve(ea, dx_faces, vol, c, b, right_flux, right_dirichlet_conductance):
    """Equilibrium of a bar on a foundation, finite volumes on (0, L/2].

    Node j with control length vol[j]; dx_faces[j] = distance between node j and j+1 (the last entry
    is the distance from the last node to its mirror/ghost). The left face (x = 0) is a symmetry
    plane with u odd. Right face: a known flux `right_flux` (free end: -EA eps) plus, for a fixed
    end, a conductance towards u = 0 (`right_dirichlet_conductance`).
    Solves  sum_faces flux - vol * c * u = -vol * b.
    """
    a = ea / dx_faces  # conductance of the interior faces j+1/2, j = 0..n-2 (last entry unused)
    a_int = a[..., :-1]
    n = vol.shape[-1]
    a_left0 = ea / vol[..., :1]  # odd mirror at x=0: node-to-ghost distance 2*(vol0/2) = vol0
    zeros = jnp.zeros_like(a_int[..., :1])
    a_l = jnp.concatenate([zeros, a_int], axis=-1)  # face to the left of node j (j>=1)
    a_r = jnp.concatenate([a_int, zeros], axis=-1)
    diag = -(a_l + a_r) - vol * c
    diag = diag.at[..., 0].add(-2.0 * a_left0[..., 0])  # flux a (u_ghost - u_0) = -2 a u_0
    diag = diag.at[..., n - 1].add(-right_dirichlet_conductance)
    rhs = -vol * b
    rhs = rhs.at[..., n - 1].add(-right_flux)
    return thomas(a_l, diag, a_r, rhs)


class Geometry(eqx.Module):
    """Control-volume widths and node distances of each component (last distance: to the ghost)."""

    mt_vol: Array  # (C, N) widths [um]
    mt_dx: Array  # (C, N) node distances [um]
    mt_x: Array  # (C, N) node positions from the MT centre [um]
    nf_vol: Array  # (M,)
    nf_dx: Array  # (M,)
    ax_vol: Array  # (N + G,)
    ax_dx: Array  # (N + G,)


def _node_distances(vol: Array) -> Array:
    """Distances node j -> j+1 for CV widths `vol`; the last entry repeats the last width."""
    return jnp.concatenate([0.5 * (vol[..., :-1] + vol[..., 1:]), vol[..., -1:]], axis=-1)


def geometry(ip: Internal, grid: Grid) -> Geometry:
    dtype = ip.mt_half.dtype
    mt_vol = ip.mt_half[:, None] * grid.unit_widths(grid.n_mt, dtype)[None, :]
    nf_vol = ip.nf_half * grid.unit_widths(grid.n_nf, dtype)
    h_gap = ip.gap_half / grid.n_gap
    ax_vol = jnp.concatenate([mt_vol[-1], jnp.ones((grid.n_gap,), dtype) * h_gap])
    return Geometry(
        mt_vol=mt_vol,
        mt_dx=_node_distances(mt_vol),
        mt_x=jnp.cumsum(mt_vol, axis=-1) - 0.5 * mt_vol,
        nf_vol=nf_vol,
        nf_dx=_node_distances(nf_vol),
        ax_vol=ax_vol,
        ax_dx=_node_distances(ax_vol),
    )


class Fields(eqx.Module):
    """Equilibrium fields at one instant."""

    mt_u: Float[Array, "C N"]  # MT displacement relative to the affine motion [um]
    nf_u: Float[Array, " M"]
    ax_v: Float[Array, " K"]
    tau_force: Float[Array, "C N"]  # pN per tau
    tau_stretch: Float[Array, "C N"]  # elastic stretch of the Maxwell branch [um]
    tau_slip: Float[Array, "C N"]  # MT slip relative to the bundle it is cross-linked to [um]
    gap_opening: Float[Array, " C"]  # half opening of the neighbour end gap each class bridges [um]


def _free_bar(ea, vol, dx, rho_phi, kl, km, sv, eps):
    """A free-ended bar (MT or NF) on an SLS foundation; returns the non-affine displacement."""
    c = rho_phi * (kl + km)
    b = rho_phi * km * sv
    return _bar_solve(ea, dx, vol, c, b, right_flux=-ea * eps, right_dirichlet_conductance=0.0)


def _gap_profile(ip: Internal, geo: Geometry) -> Float[Array, "C N"]:
    """g(x) = exp(-x / lambda_0): the shape of the bundle's motion from a neighbour end gap (see
    `coupled_bundle`); the bundle next to class c moves by a_c g(x)."""
    return jnp.exp(-geo.mt_x / ip.gap_decay)


def coupled_bundle(
    phi: Float[Array, "C N"], sv: Float[Array, "C N"], eps: Float[Array, ""], ip: Internal, geo: Geometry
) -> tuple[Float[Array, "C N"], Float[Array, " C"]]:
    """MT displacements of all length classes and their gap openings, from one block system.

    In a staggered bundle the ends of the other MTs lie along every MT, and the load a neighbour
    carried must pass its end gap through the MTs that bridge it (Ahmadzadeh et al. 2014, 2015): a
    short MT carries that load through fewer taus, so each is loaded more and slips first. Each MT
    (class c, centred in its cell) bridges one neighbour end gap at its centre. The bundle its taus
    hold on to moves with the affine motion plus the half opening a_c of that gap,
    w_c(x) = a_c g(x) on the half x > 0 (odd), g(x) = exp(-x / lambda_0), lambda_0 the shear-lag
    length of an intact, instantaneous tau bed (how far a neighbour's end displacement reaches).
    Every gap passes the share beta of the bundle force per MT, N_bar (the force a typical MT carries
    at its centre; the unknown shared by the classes): through the bridging MT (B_c = a_c N1_c, the
    bridging part of its centre force) and through the paths that bypass the gap (the gapped
    neighbour's own end, NFs, cortex; stiffness k_b = kappa EA / lambda_0 per unit opening, which
    keeps a_c bounded when the bridging taus fail):

        a_c (N1_c + k_b) = beta N_bar,     N_bar = sum_c nu_c N_c(0),   N_c(0) = N0_c + a_c N1_c,

    nu_c the number fractions (beta = 0: the affine mean-field bundle). Per class
    EA u'' = rho phi [(k_l + k_m)(u - w_c) - k_m s_v] with free ends. By linearity
    u_c = u0_c + a_c u1_c (one batched Thomas solve of the C tridiagonal blocks with two right-hand
    sides: the class's own load, a unit opening), and the border rows reduce to one scalar (the Schur
    complement of the bordered block-tridiagonal system),

        N_bar = sum nu N0 / (1 - beta sum nu r),   r_c = N1_c / (N1_c + k_b) in [0, 1),

    whose denominator is >= 1 - beta > 0. As the taus of a short MT fail, N1_c falls, its opening
    grows and the load runs through its remaining taus: it detaches, while a long MT passes the
    load on to taus further from the gap.

    Returns:
        u: (C, N) MT displacement relative to the affine motion [um]; a: (C,) half gap openings [um].
    """
    c = ip.tau_rho * phi * (ip.tau_kl + ip.tau_km)
    g = _gap_profile(ip, geo)
    rhs_b = jnp.stack([ip.tau_rho * phi * ip.tau_km * sv, c * g])  # (2, C, N): own load, unit opening
    flux = jnp.stack([-ip.mt_ea * eps, jnp.zeros_like(eps)])[:, None]  # free end: EA (eps + u') = 0
    two = rhs_b.shape  # both right-hand sides in one batched Thomas solve (no rank promotion)
    u01 = _bar_solve(
        ip.mt_ea,
        jnp.broadcast_to(geo.mt_dx, two),
        jnp.broadcast_to(geo.mt_vol, two),
        jnp.broadcast_to(c, two),
        rhs_b,
        right_flux=flux,
        right_dirichlet_conductance=0.0,
    )
    u0, u1 = u01[0], u01[1]
    # centre forces [pN]: EA times the strain of the face x = 0 (odd mirror: u' = 2 u_0 / width_0)
    n0 = ip.mt_ea * (eps + 2.0 * u0[:, 0] / geo.mt_vol[:, 0])
    n1 = ip.mt_ea * 2.0 * u1[:, 0] / geo.mt_vol[:, 0]
    beta = ip.bundle_coupling
    k_b = ip.gap_bypass * ip.mt_ea / ip.gap_decay  # [pN/um] load paths bypassing the gap
    r = n1 / (n1 + k_b)
    n_bar = jnp.sum(ip.mt_w * n0) / (1.0 - beta * jnp.sum(ip.mt_w * r))
    a = beta * n_bar / (n1 + k_b)
    return u0 + a[:, None] * u1, a


def equilibrium(state: State, eps: Float[Array, ""], ip: Internal, geo: Geometry, grid: Grid) -> Fields:
    """Quasi-static equilibrium for axonal (fiber) strain `eps` [-] given the internal state."""
    phi = jnp.exp(-state.tau_psi)
    mt_u, a = coupled_bundle(phi, state.tau_sv, eps, ip, geo)
    slip = mt_u - a[:, None] * _gap_profile(ip, geo)
    # NF damage does not feed back into NF stiffness (NFs carry little load; Hasan 2022).
    nf_u = _free_bar(ip.nf_ea, geo.nf_vol, geo.nf_dx, ip.nf_rho, ip.nf_kl, ip.nf_km, state.nf_q, eps)
    # Axolemma over the longest MT class, then the half gap: links only over the MT.
    s_ref = mt_u[-1]
    zg = jnp.zeros((grid.n_gap,), s_ref.dtype)
    on_mt = jnp.concatenate([jnp.ones_like(s_ref), zg])
    c_ax = ip.ax_ecm + on_mt * (ip.ax_kl + ip.ax_km)
    b_ax = jnp.concatenate([(ip.ax_kl + ip.ax_km) * s_ref + ip.ax_km * state.ax_q, zg])
    ax_v = _bar_solve(
        ip.ax_ea,
        geo.ax_dx,
        geo.ax_vol,
        c_ax,
        b_ax,
        right_flux=0.0,
        right_dirichlet_conductance=2.0 * ip.ax_ea / geo.ax_dx[-1],
    )
    tau_force = (ip.tau_kl + ip.tau_km) * slip - ip.tau_km * state.tau_sv
    return Fields(
        mt_u=mt_u,
        nf_u=nf_u,
        ax_v=ax_v,
        tau_force=tau_force,
        tau_stretch=slip - state.tau_sv,
        tau_slip=slip,
        gap_opening=a,
    )


def _saturating_hazard(excess: Array, rate: Array) -> Array:
    x = jnp.maximum(excess, 0.0)
    return rate * x * x / (_HAZARD_WIDTH**2 + x * x)


def bell_hazard(force: Array, ip: Internal) -> Array:
    """Bell-type off-rate k_0 (cosh(f/F_b) - 1) [1/ms], capped smoothly at the saturated rate k_rupt.

    Unbounded, exp(f/F_b) reaches 1e9 /ms for an overloaded tau; with re-binding that makes the ODE
    stiff (the equilibrium -log phi relaxes at the hazard rate). A tau cannot fail faster than the
    saturated rupture rate of the stretch criterion, so b -> k_rupt b / (k_rupt + b): the same value
    for b << k_rupt, and failure within ~1/k_rupt ms (instant on the loading time scale) beyond.
    """
    raw = ip.tau_k_bell * (jnp.cosh(jnp.clip(force / ip.tau_f_bell, -_MAX_BELL_ARG, _MAX_BELL_ARG)) - 1.0)
    return ip.tau_k_rupt * raw / (ip.tau_k_rupt + raw + _TINY_RATE)


def free_bar_face_strain(u: Array, vol: Array, dx: Array, eps: Array) -> Array:
    """Strain at the faces x = 0 and between nodes (the free-end face has strain 0), shape (n,)."""
    face0 = 2.0 * u[..., :1] / vol[..., :1]
    inner = jnp.diff(u, axis=-1) / dx[..., :-1]
    return eps + jnp.concatenate([face0, inner], axis=-1)


def nf_node_strain(nf_u: Array, vol: Array, dx: Array, eps: Array) -> Array:
    """NF strain at the nodes: mean of the two faces of each control volume."""
    faces = free_bar_face_strain(nf_u, vol, dx, eps)
    right = jnp.concatenate([faces[..., 1:], jnp.zeros_like(faces[..., :1])], axis=-1)
    return 0.5 * (faces + right)


def vector_field(state: State, eps: Array, ip: Internal, geo: Geometry, grid: Grid) -> State:
    """d(state)/dt [per ms] at axonal strain `eps`."""
    f = equilibrium(state, eps, ip, geo, grid)
    d_sv = (f.tau_slip - state.tau_sv) / ip.tau_relax
    gamma = jnp.abs(f.tau_stretch) / ip.tau_stretch_fail
    bell = bell_hazard(f.tau_force, ip)
    hazard = _saturating_hazard(gamma - 1.0, ip.tau_k_rupt) + bell
    d_psi = hazard - ip.tau_k_on * (jnp.exp(jnp.minimum(state.tau_psi, _MAX_BELL_ARG)) - 1.0)
    d_nfq = (f.nf_u - state.nf_q) / ip.nf_relax
    nf_eps = nf_node_strain(f.nf_u, geo.nf_vol, geo.nf_dx, eps)
    d_nfpsi = _saturating_hazard(nf_eps / ip.nf_fail - 1.0, ip.nf_k_fail)
    n = grid.n_mt
    d_axq = (f.ax_v[:n] - f.mt_u[-1] - state.ax_q) / ip.ax_relax
    return State(tau_sv=d_sv, tau_psi=d_psi, nf_q=d_nfq, nf_psi=d_nfpsi, ax_q=d_axq)


def peak(x: Float[Array, "*shape"], axis: int | None = None) -> Array:
    """Maximum of `x` over all entries (or along `axis`), differentiated as a gather at the arg-max.

    Same value as `jnp.max` (NaN if any entry is NaN); the derivative goes to exactly one entry, the
    first maximum. `jnp.max` instead shares it among the entries that compare equal to the maximum,
    and under jit XLA may recompute those values in another fusion so that none compares equal: the
    derivative is then 0/0 = NaN, and in reverse mode that NaN reaches every output (0 * NaN).

    Returns:
        shape of `x` without `axis` (a scalar for `axis=None`).
    """
    if axis is None:
        x = x.reshape(-1)
        return x[jnp.argmax(x)]
    i = jnp.expand_dims(jnp.argmax(x, axis=axis), axis)
    return jnp.squeeze(jnp.take_along_axis(x, i, axis=axis), axis)


class Readout(eqx.Module):
    """Per-instant readout of the four injury measures (plus per-class MT strain)."""

    mt_strain: Float[Array, ""]  # peak MT strain over classes and positions [-]
    mt_strain_by_class: Float[Array, " C"]
    axolemma_strain: Float[Array, ""]  # peak axolemma strain [-]
    nf_strain: Float[Array, ""]  # peak NF strain [-]
    tau_failed_fraction: Float[Array, ""]  # [-], weighted by tau count
    tau_failed_by_class: Float[Array, " C"]
    nf_failed_fraction: Float[Array, ""]
    tau_stretch_ratio: Float[Array, ""]  # max elastic tau stretch / failure stretch [-]


def readout(state: State, eps: Array, ip: Internal, geo: Geometry, grid: Grid) -> Readout:
    """Injury measures at one instant (every maximum taken by `peak`, so derivatives stay finite)."""
    f = equilibrium(state, eps, ip, geo, grid)
    mt_by_class = peak(free_bar_face_strain(f.mt_u, geo.mt_vol, geo.mt_dx, eps), axis=-1)
    v = f.ax_v
    ax_faces = jnp.concatenate(
        [
            2.0 * v[:1] / geo.ax_vol[0],
            jnp.diff(v) / geo.ax_dx[:-1],
            -2.0 * v[-1:] / geo.ax_dx[-1],
        ]
    )
    nf_eps = nf_node_strain(f.nf_u, geo.nf_vol, geo.nf_dx, eps)
    failed_by_class = jnp.sum(-jnp.expm1(-state.tau_psi) * geo.mt_vol, axis=-1) / ip.mt_half
    w_len = ip.mt_w * ip.mt_half
    tau_failed = jnp.sum(w_len * failed_by_class) / jnp.sum(w_len)
    nf_failed = jnp.sum(-jnp.expm1(-state.nf_psi) * geo.nf_vol) / ip.nf_half
    return Readout(
        mt_strain=peak(mt_by_class),
        mt_strain_by_class=mt_by_class,
        axolemma_strain=eps + peak(ax_faces),
        nf_strain=peak(nf_eps),
        tau_failed_fraction=tau_failed,
        tau_failed_by_class=failed_by_class,
        nf_failed_fraction=nf_failed,
        tau_stretch_ratio=peak(jnp.abs(f.tau_stretch)) / ip.tau_stretch_fail,
    )
