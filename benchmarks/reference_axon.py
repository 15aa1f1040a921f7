"""An independent NumPy/SciPy implementation of the axon model equations (docs/axon.md).

Written from the equations, not from `axojax.axon._model`: its own grid, its own banded solver
(`scipy.linalg.solve_banded`) and `scipy.integrate.solve_ivp` (LSODA). Used by the tests (agreement
within 1 %) and by `bench_axon.py` (speed ratio). Shares only the parameter values.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import solve_banded

HAZARD_WIDTH = 0.25
BELL_CLIP = 30.0


def _widths(n, grade, half):
    w = grade ** np.arange(n)
    return half * w / w.sum()


def _dist(vol):
    return np.concatenate([0.5 * (vol[:-1] + vol[1:]), vol[-1:]])


class Reference:
    """One axon, SI-free internal units um, ms, pN (same as the JAX model)."""

    def __init__(self, params, n_mt=8, n_nf=8, n_gap=3, grade=0.8):
        p = {k: np.asarray(getattr(params, k), dtype=float) for k in params.__dataclass_fields__}
        self.C = p["mt_lengths_um"].shape[0]
        self.n, self.m, self.g = n_mt, n_nf, n_gap
        self.mt_ea = p["mt_youngs_modulus_gpa"] * p["mt_area_nm2"] * 1e3  # GPa nm^2 -> pN
        self.mt_half = 0.5 * p["mt_lengths_um"]
        self.mt_w = p["mt_length_fractions"] / p["mt_length_fractions"].sum()
        self.rho = p["tau_density_per_um"]
        self.kl = p["tau_stiffness_long_pn_per_nm"] * 1e3
        self.km = (p["tau_stiffness_inst_pn_per_nm"] - p["tau_stiffness_long_pn_per_nm"]) * 1e3
        self.tau_relax = p["tau_relaxation_ms"]
        self.stretch_fail = p["tau_failure_slip_nm"] * 1e-3
        self.k_rupt, self.k_bell = p["tau_rupture_rate_per_ms"], p["tau_bell_rate_per_ms"]
        self.f_bell, self.k_on = p["tau_bell_force_pn"], p["tau_rebinding_rate_per_ms"]
        self.nf_ea = p["nf_youngs_modulus_mpa"] * p["nf_area_nm2"]  # MPa nm^2 -> pN
        self.nf_half = 0.5 * p["nf_length_um"]
        self.nf_rho = p["nf_sidearm_density_per_um"]
        self.nf_kl = p["nf_sidearm_stiffness_long_pn_per_nm"] * 1e3
        self.nf_km = (
            p["nf_sidearm_stiffness_inst_pn_per_nm"] - p["nf_sidearm_stiffness_long_pn_per_nm"]
        ) * 1e3
        self.nf_relax, self.nf_fail = p["nf_sidearm_relaxation_ms"], p["nf_failure_strain"]
        self.nf_k = p["nf_failure_rate_per_ms"]
        self.ax_ea = p["axolemma_youngs_modulus_mpa"] * p["axolemma_area_nm2"]
        self.ax_kl = p["axolemma_link_long_pn_per_um2"]
        self.ax_km = p["axolemma_link_inst_pn_per_um2"] - p["axolemma_link_long_pn_per_um2"]
        self.ax_relax, self.ax_ecm = (
            p["axolemma_link_relaxation_ms"],
            p["axolemma_ecm_stiffness_pn_per_um2"],
        )
        self.mt_vol = np.stack([_widths(n_mt, grade, h) for h in self.mt_half])
        self.nf_vol = _widths(n_nf, grade, self.nf_half)
        gap = np.full(n_gap, 0.5 * p["mt_gap_um"] / n_gap)
        self.ax_vol = np.concatenate([self.mt_vol[-1], gap])
        self.sizes = [self.C * n_mt, self.C * n_mt, n_nf, n_nf, n_mt]

    @staticmethod
    def _solve(ea, vol, c, b, end_force=None, fixed_end=False):
        """Finite-volume bar: sum of face forces = vol (c u - b); u odd at x = 0."""
        n = vol.size
        d = _dist(vol)
        a = ea / d[:-1]
        main = -vol * c
        main[0] -= 2.0 * ea / vol[0]
        main[:-1] -= a
        main[1:] -= a
        rhs = -vol * b
        if fixed_end:
            main[-1] -= 2.0 * ea / vol[-1]
        else:
            rhs[-1] -= end_force
        ab = np.zeros((3, n))
        ab[0, 1:] = a
        ab[1] = main
        ab[2, :-1] = a
        return solve_banded((1, 1), ab, rhs)

    def unpack(self, y):
        parts = np.split(y, np.cumsum(self.sizes)[:-1])
        sv, psi = parts[0].reshape(self.C, self.n), parts[1].reshape(self.C, self.n)
        return sv, psi, parts[2], parts[3], parts[4]

    def fields(self, y, eps):
        sv, psi, nq, npsi, aq = self.unpack(y)
        phi = np.exp(-psi)
        u = np.stack(
            [
                self._solve(
                    self.mt_ea,
                    self.mt_vol[c],
                    self.rho * phi[c] * (self.kl + self.km),
                    self.rho * phi[c] * self.km * sv[c],
                    end_force=-self.mt_ea * eps,
                )
                for c in range(self.C)
            ]
        )
        w = self._solve(
            self.nf_ea,
            self.nf_vol,
            np.full(self.m, self.nf_rho * (self.nf_kl + self.nf_km)),
            self.nf_rho * self.nf_km * nq,
            end_force=-self.nf_ea * eps,
        )
        on = np.concatenate([np.ones(self.n), np.zeros(self.g)])
        s_ref = np.concatenate([u[-1], np.zeros(self.g)])
        kk = self.ax_kl + self.ax_km
        v = self._solve(
            self.ax_ea,
            self.ax_vol,
            self.ax_ecm + on * kk,
            on * (kk * s_ref + self.ax_km * np.concatenate([aq, np.zeros(self.g)])),
            fixed_end=True,
        )
        return u, w, v

    @staticmethod
    def _face_strain(u, vol, eps):
        d = _dist(vol)
        return eps + np.concatenate([[2.0 * u[0] / vol[0]], np.diff(u) / d[:-1]])

    def rhs(self, t, y, t_data, e_data):
        eps = np.interp(t, t_data, e_data)
        sv, psi, nq, npsi, aq = self.unpack(y)
        u, w, v = self.fields(y, eps)
        stretch = u - sv
        force = (self.kl + self.km) * u - self.km * sv
        x = np.maximum(np.abs(stretch) / self.stretch_fail - 1.0, 0.0)
        hazard = self.k_rupt * x**2 / (HAZARD_WIDTH**2 + x**2)
        bell = self.k_bell * (np.cosh(np.clip(force / self.f_bell, -BELL_CLIP, BELL_CLIP)) - 1.0)
        hazard += self.k_rupt * bell / (self.k_rupt + bell + 1e-30)  # capped at the saturated rate
        dpsi = hazard - self.k_on * (np.exp(np.minimum(psi, BELL_CLIP)) - 1.0)
        faces = self._face_strain(w, self.nf_vol, eps)
        node = 0.5 * (faces + np.concatenate([faces[1:], [0.0]]))
        xn = np.maximum(node / self.nf_fail - 1.0, 0.0)
        dnpsi = self.nf_k * xn**2 / (HAZARD_WIDTH**2 + xn**2)
        return np.concatenate(
            [
                ((u - sv) / self.tau_relax).ravel(),
                dpsi.ravel(),
                (w - nq) / self.nf_relax,
                dnpsi,
                (v[: self.n] - u[-1] - aq) / self.ax_relax,
            ]
        )

    def outputs(self, y, eps):
        sv, psi, nq, npsi, aq = self.unpack(y)
        u, w, v = self.fields(y, eps)
        mt = max(self._face_strain(u[c], self.mt_vol[c], eps).max() for c in range(self.C))
        d = _dist(self.ax_vol)
        ax = (
            eps
            + np.concatenate(
                [
                    [2.0 * v[0] / self.ax_vol[0]],
                    np.diff(v) / d[:-1],
                    [-2.0 * v[-1] / self.ax_vol[-1]],
                ]
            ).max()
        )
        by_class = (-np.expm1(-psi) * self.mt_vol).sum(1) / self.mt_half
        wl = self.mt_w * self.mt_half
        tau = (wl * by_class).sum() / wl.sum()
        nf = (-np.expm1(-npsi) * self.nf_vol).sum() / self.nf_half
        return np.array([mt, ax, 100.0 * tau, 100.0 * nf])

    def simulate(self, t_s, strain, rtol=1e-8, atol=1e-10):
        """Four outputs (peaks over the samples of t_s) for one profile (strain as a fraction)."""
        t_ms = np.asarray(t_s, float) * 1e3
        e = np.asarray(strain, float)
        y0 = np.zeros(sum(self.sizes))
        sol = solve_ivp(
            self.rhs,
            (t_ms[0], t_ms[-1]),
            y0,
            method="LSODA",
            t_eval=t_ms,
            args=(t_ms, e),
            rtol=rtol,
            atol=atol,
            max_step=float(np.min(np.diff(t_ms))),
        )
        if not sol.success:
            raise RuntimeError(f"reference solve failed: {sol.message}")
        return np.max(np.stack([self.outputs(sol.y[:, k], e[k]) for k in range(t_ms.size)]), axis=0)
