"""Stage 1a: the run's impacts (synthetic today) and their metadata."""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import RunConfig


def synthetic_impact_list(config: RunConfig) -> dict[str, Any]:
    """The run's synthetic impacts by name: `n_impacts` training impacts, then the held-out one
    (drawn with its own key, peak |ω| in `config.held_out_peak_ang_vel_rad_s`)."""
    import jax

    from axojax.kinematics import Impact, synthetic_impacts

    key = jax.random.PRNGKey(config.seed)
    batches = [
        (synthetic_impacts(key, config.n_impacts), "train_{:03d}"),
        (
            synthetic_impacts(
                jax.random.fold_in(key, 1),
                1,
                peak_ang_vel_rad_s=config.held_out_peak_ang_vel_rad_s,
            ),
            "held_out_{:03d}",
        ),
    ]
    impacts = {}
    for batch, pattern in batches:
        for i in range(batch.t_s.shape[0]):
            name = pattern.format(len(impacts))
            impacts[name] = Impact(
                t_s=batch.t_s[i],
                ang_vel_rad_s=batch.ang_vel_rad_s[i],
                ang_acc_rad_s2=batch.ang_acc_rad_s2[i],
                name=name,
            )
    return impacts


def impact_metadata(impact) -> dict[str, float]:
    """Peak |ω| [rad/s], peak |α| [rad/s^2] and the dominant rotation axis of an impact."""
    w = np.asarray(impact.ang_vel_rad_s, np.float64)
    a = np.asarray(impact.ang_acc_rad_s2, np.float64)
    i = int(np.argmax(np.linalg.norm(w, axis=-1)))
    axis = w[i] / max(np.linalg.norm(w[i]), 1e-30)
    return {
        "peak_ang_vel_rad_s": float(np.linalg.norm(w, axis=-1).max()),
        "peak_ang_acc_rad_s2": float(np.linalg.norm(a, axis=-1).max()),
        "axis_head": [float(v) for v in axis],
    }
