"""Shared small meshes and materials of the FE solver tests (not a test module)."""

import jax.numpy as jnp
import numpy as np

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
