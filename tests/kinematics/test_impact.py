import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.kinematics import Impact


def _arrays(n=11):
    t = jnp.linspace(0.0, 0.01, n)
    w = jnp.zeros((n, 3))
    return t, w, w


def test_impact_construct_and_vmap():
    t, w, a = _arrays()
    imp = Impact(t, w, a, name="x")
    assert imp.name == "x" and imp.lin_acc_m_s2 is None
    assert imp.t_s.shape == (11,)
    batch = jax.vmap(lambda s: Impact(t, w + s, a))(jnp.arange(4.0))
    assert batch.ang_vel_rad_s.shape == (4, 11, 3)
    np.testing.assert_allclose(batch.duration_s, 0.01)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ang_vel_rad_s": jnp.zeros((5, 3))}, "ang_vel_rad_s"),
        ({"ang_acc_rad_s2": jnp.zeros((11, 2))}, "ang_acc_rad_s2"),
        ({"lin_acc_m_s2": jnp.zeros((11,))}, "lin_acc_m_s2"),
        ({"t_s": jnp.zeros((11, 1))}, "t_s"),
        ({"ang_vel_rad_s": jnp.zeros((11, 3)).at[2, 1].set(jnp.nan)}, "ang_vel_rad_s.*NaN"),
        ({"t_s": jnp.linspace(0.0, 0.01, 11)[::-1]}, "t_s.*increasing"),
        ({"t_s": jnp.zeros(11)}, "t_s.*increasing"),
    ],
)
def test_impact_rejects_bad_input(kwargs, match):
    t, w, a = _arrays()
    args = {"t_s": t, "ang_vel_rad_s": w, "ang_acc_rad_s2": a} | kwargs
    with pytest.raises(ValueError, match=match):
        Impact(**args)
