"""The `Impact` container: rigid-body head kinematics of one impact.

Frame: the head anatomical frame of SAE J211 (x anterior, y right, z inferior), the frame in which
the DAMAGE constants of `axojax.headmodel` are given. Units: time [s], angular velocity [rad/s],
angular acceleration [rad/s^2], linear acceleration of the head centre of gravity [m/s^2].
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._validate import check_finite, check_time_grid

__all__ = ["Impact"]


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


class Impact(eqx.Module):
    """Head kinematics of one impact, sampled at times `t_s`.

    Attributes:
        t_s: sample times [s], strictly increasing.
        ang_vel_rad_s: angular velocity ω [rad/s], head frame (SAE J211).
        ang_acc_rad_s2: angular acceleration α [rad/s^2], head frame.
        lin_acc_m_s2: linear acceleration of the head centre of gravity [m/s^2], or None.
        name: a label (static; not traced).

    A batch of impacts (e.g. from `synthetic_impacts`) is one `Impact` whose array leaves carry a
    leading batch axis; `jax.vmap` over it gives single impacts.

    Raises:
        ValueError: at construction, on wrong shapes, NaN/inf, or non-increasing `t_s`
            (value checks run only on concrete arrays, not under `jit`/`vmap`).
    """

    t_s: Float[Array, " time"] = eqx.field(converter=jnp.asarray)
    ang_vel_rad_s: Float[Array, "time 3"] = eqx.field(converter=jnp.asarray)
    ang_acc_rad_s2: Float[Array, "time 3"] = eqx.field(converter=jnp.asarray)
    lin_acc_m_s2: Float[Array, "time 3"] | None = eqx.field(
        default=None, converter=lambda x: None if x is None else jnp.asarray(x)
    )
    name: str = eqx.field(static=True, default="impact")

    def __check_init__(self):
        t = self.t_s
        if t.ndim != 1 or t.shape[0] < 2:
            raise ValueError(f"Impact.t_s: need shape (T,) with T >= 2, got {t.shape}")
        fields = {"ang_vel_rad_s": self.ang_vel_rad_s, "ang_acc_rad_s2": self.ang_acc_rad_s2}
        if self.lin_acc_m_s2 is not None:
            fields["lin_acc_m_s2"] = self.lin_acc_m_s2
        for field, x in fields.items():
            if x.shape != (t.shape[0], 3):
                raise ValueError(f"Impact.{field}: need shape ({t.shape[0]}, 3), got {x.shape}")
        for field, x in {"t_s": t, **fields}.items():
            if not jnp.issubdtype(x.dtype, jnp.floating):
                raise ValueError(f"Impact.{field}: need a floating dtype, got {x.dtype}")
            if _is_concrete(x):
                check_finite(x, where="", field=f"Impact.{field}")
        if _is_concrete(t):  # no duration limit here: the readers in `io` catch ms passed as s
            check_time_grid(t, where="", field="Impact.t_s", max_duration_s=None)

    @property
    def duration_s(self) -> Float[Array, "*batch"]:
        """Length of the record [s]."""
        return self.t_s[..., -1] - self.t_s[..., 0]
