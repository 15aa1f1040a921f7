"""Shared fixtures: one reverse-mode ODE program (B = 1 profile, T = 31, float64) and a tiny surrogate."""

import functools

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from axojax.axon import AxonParams, SolverSettings, _model
from axojax.sensitivity import ode_jacobians
from axojax.surrogate import SurrogateCNN, SurrogateConfig

T_S = np.linspace(0.0, 0.03, 31)  # 30 ms at 1 kHz [s]
# tight tolerances so finite differences see a smooth solve; a small grid keeps compilation short
SETTINGS = SolverSettings(rtol=1e-7, atol=1e-9, max_steps=20000, grid=_model.Grid(n_mt=4, n_nf=3, n_gap=2))


def sine2(amp: float, dur_s: float, t0_s: float = 0.0) -> np.ndarray:
    """amp sin^2 pulse [-] of duration dur_s starting at t0_s, on T_S."""
    return amp * np.sin(np.pi * np.clip((T_S - t0_s) / dur_s, 0.0, 1.0)) ** 2


# fast loading (6 ms, 14 %): fails taus and NFs, so all four outputs and their derivatives are non-zero.
# One profile: a batch of one compiles in ~35 s, a batch of two in ~50 s (this folder's main cost).
PROFILES = sine2(0.14, 0.006, 0.004)[None, :]


@pytest.fixture(scope="session")
def params():
    return AxonParams.male().astype(jnp.float64)


@pytest.fixture(scope="session")
def ode_jac(params):
    """`ode_jacobians` of PROFILES (the one compiled ODE program of this folder)."""
    return ode_jacobians(T_S, PROFILES, params, settings=SETTINGS)


@functools.partial(nnx.jit, static_argnums=(0, 1))
def _init(config: SurrogateConfig, seed: int) -> SurrogateCNN:
    return SurrogateCNN(config, rngs=nnx.Rngs(seed))


def tiny_surrogate(n_time: int, seed: int = 0, profiles=None) -> SurrogateCNN:
    """A small untrained surrogate; broad output statistics (means near 50 %: failures are not clipped).

    Input statistics come from `profiles` (B, T) if given (so that inputs are O(1) once normalised),
    else from random profiles of 0-5 % strain.
    """
    model = _init(SurrogateConfig(n_time=n_time, dt_s=1e-3, channels=(4, 8), kernel_size=3, hidden=8), seed)
    rng = np.random.default_rng(seed)
    x = 0.05 * rng.random((16, n_time)) if profiles is None else np.asarray(profiles)
    n = x.shape[0]
    y = np.array([0.1, 0.2, 100.0, 100.0]) * rng.random((n, 4))  # broad: outputs vary with the input
    model.set_statistics(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
    return model
