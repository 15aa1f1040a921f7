"""Small workloads run both in the test process (one device) and in subprocesses (several devices).

Imported by the tests (`from . import _cases`) and by the subprocess scripts beside this file
(`import _cases`), so every run sees the same inputs. Tiny shapes keep the compiles short: the axon
model compiles once per batch shape (~15 s), the rest in about a second.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from axojax.parallel import run_sharded

# stages are imported inside each case, so a run of some cases imports only what they need

# --- campaign: 7 ramps in chunks of 3 (on 4 devices each chunk is padded to 4 rows, 1 per device)
T_S = np.linspace(0.0, 0.04, 21)  # [s]
CAMPAIGN_CHUNK = 3


def campaign_profiles() -> np.ndarray:
    """7 ramp-and-hold profiles (7, 21) [-]."""
    rates = np.array([30.0, 10.0, 50.0, 5.0, 20.0, 40.0, 1.0])  # [1/s]
    amps = np.array([0.05, 0.03, 0.10, 0.08, 0.12, 0.02, 0.01])  # [-]
    return np.minimum(rates[:, None] * T_S[None, :], amps[:, None])


def campaign_case(out_dir: Path) -> dict[str, np.ndarray]:
    from axojax.campaign import run_campaign

    res = run_campaign(T_S, campaign_profiles(), out_dir, chunk_size=CAMPAIGN_CHUNK, progress=False)
    return dict(outputs=res.outputs, success=res.success, status=res.status, attempts=res.attempts)


# --- fiber strain: 32-voxel brain, chunks of 7 voxels (8 per call on 4 devices)
FIBER_T_S = np.linspace(0.0, 0.055, 12)  # [s]
AXIS = np.array([0.0, 0.6, 0.8])
IMPACTS = {"a": 0.04, "b": 0.10}  # peak stretch strain [-] by impact name
FIBER_CHUNK = 7


def tiny_brain():
    from axojax.brain import brain_from_mask

    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[:, 1:, 1:] = True
    mask[0, 1:3, 1:3] = False
    n = int(mask.sum())
    dirs = np.random.default_rng(0).normal(size=(n, 2, 3))
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    return brain_from_mask(mask, np.eye(4), dirs, np.tile([3.0, 1.0], (n, 1)))


@jax.jit
def uniaxial_strain(peak, coords_mm):
    """E(x, t) = peak sin^2(pi t / T) (1 + x / 10) u u^T, u = AXIS: (vox, T, 3, 3) [-]."""
    t = jnp.asarray(FIBER_T_S, coords_mm.dtype)
    a = jnp.asarray(peak, coords_mm.dtype) * jnp.sin(jnp.pi * t / t[-1]) ** 2
    uu = jnp.asarray(np.outer(AXIS, AXIS), coords_mm.dtype)
    scale = 1.0 + coords_mm[:, 0] / 10.0
    return scale[:, None, None, None] * a[None, :, None, None] * uu[None, None]


def fiber_case(store_dir: Path) -> dict[str, np.ndarray]:
    from axojax.fiberstrain import build_profiles

    impacts = {k: jnp.asarray(v) for k, v in IMPACTS.items()}
    ds = build_profiles(
        uniaxial_strain, impacts, tiny_brain(), store_dir, t_s=FIBER_T_S, chunk_voxels=FIBER_CHUNK
    )
    return dict(profiles=ds.to_array())


# --- surrogate: a small CNN with made-up weights on 7 pulses, in chunks of 3 and in one chunk
SURROGATE_T, SURROGATE_DT_S = 32, 1e-3


def surrogate_profiles() -> np.ndarray:
    t = np.arange(SURROGATE_T) * SURROGATE_DT_S
    amp = np.linspace(0.02, 0.14, 7)[:, None]
    return (amp * np.exp(-0.5 * ((t[None] - 0.015) / 0.004) ** 2)).astype(np.float32)


def _fill(path, leaf) -> np.ndarray:
    """Deterministic stand-in weights; statistics as a fresh model has them (no OOD flags)."""
    name = jax.tree_util.keystr(path)
    if "std" in name:
        return np.ones(leaf.shape, leaf.dtype)
    if "mean" in name:
        return np.zeros(leaf.shape, leaf.dtype)
    if "max_abs" in name:
        return np.full(leaf.shape, np.inf, leaf.dtype)
    k = np.arange(int(np.prod(leaf.shape)), dtype=np.float64)
    return (0.5 * np.sin(0.7 * k + len(name))).reshape(leaf.shape).astype(leaf.dtype)


def surrogate_case() -> dict[str, np.ndarray]:
    from flax import nnx

    from axojax.surrogate import SurrogateCNN, SurrogateConfig, predict

    config = SurrogateConfig(
        n_time=SURROGATE_T, dt_s=SURROGATE_DT_S, channels=(4, 8), kernel_size=3, hidden=8
    )
    # shapes from eval_shape, values from _fill: a random init would compile truncated_normal per
    # weight shape (~8 s of CPU per process)
    graphdef, state = nnx.split(nnx.eval_shape(lambda: SurrogateCNN(config, rngs=nnx.Rngs(0))))
    model = nnx.merge(graphdef, jax.tree_util.tree_map_with_path(_fill, state))
    x = surrogate_profiles()
    return dict(chunked=np.asarray(predict(model, x, batch_size=3)), whole=np.asarray(predict(model, x)))


# --- run_sharded on its own: 7 rows, a pytree out, both pad modes
def row_stats(x, scale):
    return dict(total=jnp.sum(x * scale, axis=-1), first=x[:, 0], rows=x)


def sharded_case() -> dict[str, np.ndarray]:
    x = np.arange(35, dtype=np.float64).reshape(7, 5)
    scale = jnp.asarray(2.0, jnp.float64)
    out = {}
    for mode in ("edge", "zeros"):
        res = run_sharded(row_stats, (x,), (scale,), pad_mode=mode)
        out.update({f"{mode}_{k}": np.asarray(v) for k, v in res.items()})
    return out


CASES = ("campaign", "fiber", "surrogate", "sharded")


def run_cases(work_dir: Path, cases: tuple[str, ...] = CASES) -> dict[str, np.ndarray]:
    """The named cases (stores under `work_dir`), results flattened to `case/name` keys."""
    runs = dict(
        campaign=lambda: campaign_case(work_dir / "campaign"),
        fiber=lambda: fiber_case(work_dir / "fiber"),
        surrogate=surrogate_case,
        sharded=sharded_case,
    )
    return {f"{case}/{k}": v for case in cases for k, v in runs[case]().items()}
