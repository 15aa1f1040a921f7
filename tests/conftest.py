import jax
import jax.random as jr
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def getkey():
    """A fresh PRNG key on each call, deterministic per test."""
    state = {"key": jr.PRNGKey(0)}

    def _getkey():
        state["key"], sub = jr.split(state["key"])
        return sub

    return _getkey
