"""Shared small meshes and materials of the FE solver tests (not a test module)."""

import jax.numpy as jnp
import numpy as np

from axojax.headmodel import VoxelMesh
from axojax.headmodel import _fe_solver as fe


def tables(g_inf=1.0, bulk=10.0, rho=1.0, g1=0.0, beta=0.0, dtype=jnp.float64):
    """Homogeneous material on every label (units of the solver, or any consistent set)."""
    v = lambda x: jnp.full((5,), x, dtype)  # noqa: E731
    return fe.LabelTables(
        density=v(rho),
        bulk=v(bulk),
        shear_inf=v(g_inf),
        shear_terms=v(g1)[:, None],
        decay=v(beta)[:, None],
        hourglass_scale=jnp.asarray(1.0, dtype),
    )


def jagged_labels(seed=0):
    """A 6 x 5 x 7 grid of random labels 0-3 (~20 % outside) around a white-matter block."""
    rng = np.random.default_rng(seed)
    lab = (rng.random((6, 5, 7)) < 0.8).astype(np.int32) * rng.integers(1, 4, (6, 5, 7)).astype(np.int32)
    lab[2:4, 2:4, 2:5] = 3
    return lab


H = 10.0  # mm: a coarse synthetic head


def small_head() -> VoxelMesh:
    """An ellipsoidal 'head' of 10 mm elements: CSF shell, grey-matter layer, white-matter core, a falx
    column on the midline at the top."""
    n = np.array([13, 15, 13])
    c = (np.stack(np.meshgrid(*[np.arange(k) for k in n], indexing="ij"), -1) + 0.5) * H - n * H / 2
    q = np.sum((c / np.array([55.0, 65.0, 55.0])) ** 2, axis=-1)
    lab = np.zeros(n, np.int32)
    lab[q < 1.0] = 1
    lab[q < 0.75] = 2
    lab[q < 0.35] = 3
    mid = n[0] // 2
    lab[mid, 5:10, 9:11] = np.where(lab[mid, 5:10, 9:11] > 0, 4, 0)
    return VoxelMesh(jnp.asarray(lab), jnp.asarray(-n * H / 2, jnp.float64), H)


def wm_points(mesh, n=60, seed=0):
    lab = np.asarray(mesh.labels)
    idx = np.argwhere(lab == 3)
    rng = np.random.default_rng(seed)
    pick = idx[rng.choice(len(idx), n, replace=True)]
    return np.asarray(mesh.origin_mm) + (pick + rng.random((n, 3))) * mesh.element_size_mm
