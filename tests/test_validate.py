"""The shared input checks of axojax._validate: time grids [s] and strain values [-]."""

import jax.numpy as jnp
import numpy as np
import pytest

from axojax._validate import check_finite, check_strain_values, check_time_grid

T = np.linspace(0.0, 0.05, 6, dtype=np.float32)


def test_good_time_grid_is_returned_unchanged_as_float64():
    out = check_time_grid(T, where="run.npz")
    assert out.dtype == np.float64 and out.shape == T.shape
    np.testing.assert_array_equal(out, T.astype(np.float64))
    np.testing.assert_array_equal(check_time_grid(jnp.asarray(T), where="x"), out)


@pytest.mark.parametrize(
    "t, match",
    [
        (T[::-1], r"run\.npz: field t_s must be strictly increasing .*t_s\[1\]"),
        (
            np.r_[T[:3], T[2:]],
            r"field t_s must be strictly increasing \(sorted, no repeats\); first at t_s\[3\]",
        ),
        (np.r_[T[:2], np.nan, T[3:]], r"run\.npz: field t_s contains NaN or inf \(first at index \(2,\)\)"),
        (np.r_[T[:2], np.inf, T[3:]], "contains NaN or inf"),
        (T * 1e3, r"run\.npz: field t_s spans 50 s > 10 s: milliseconds passed as seconds.*ms"),
        (
            T[:1],
            r"field t_s must be a non-empty 1-D time grid \[s\] with at least 2 samples, got shape \(1,\)",
        ),
        (T.reshape(2, 3), r"got shape \(2, 3\)"),
    ],
)
def test_bad_time_grid_is_refused(t, match):
    with pytest.raises(ValueError, match=match):
        check_time_grid(t, where="run.npz")


def test_time_grid_options():
    assert check_time_grid(T[:1], where="w", min_samples=1).shape == (1,)
    with pytest.raises(ValueError, match=r"non-empty 1-D"):
        check_time_grid(np.zeros(0), where="w", min_samples=1)
    long = np.linspace(0.0, 60.0, 7)
    np.testing.assert_array_equal(check_time_grid(long, where="w", max_duration_s=None), long)
    with pytest.raises(ValueError, match="spans 60 s > 30 s"):
        check_time_grid(long, where="w", max_duration_s=30.0)
    # without `where` the message starts with the field; quotes stay in the label, not the index
    with pytest.raises(
        ValueError, match=r"^'t' must be strictly increasing .*first at t\[1\] = 0 <= t\[0\] = 0"
    ):
        check_time_grid(np.zeros(3), where="", field="'t'")


def test_strain_values():
    good = np.array([[0.0, 0.05, -0.2], [0.0, 1.0, -1.0]])
    assert check_strain_values(good, where="w", field="strain") is None
    with pytest.raises(
        ValueError, match=r"w: field strain reaches \|strain\| = 100 > 1;.*looks like a percentage"
    ):
        check_strain_values(100.0 * good, where="w", field="strain")
    bad = good.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"^profiles contains NaN or inf \(first at index \(1, 2\)\)"):
        check_strain_values(bad, where="", field="profiles")
    with pytest.raises(ValueError, match="percentage"):
        check_strain_values(jnp.full((2, 3), -1.5), where="w", field="strain")


def test_check_finite_names_the_first_bad_index():
    x = np.zeros((2, 3, 4))
    check_finite(x, where="f.nii", field="'image'")
    x[1, 0, 3] = -np.inf
    with pytest.raises(
        ValueError, match=r"f\.nii: field 'image' contains NaN or inf \(first at index \(1, 0, 3\)\)"
    ):
        check_finite(x, where="f.nii", field="'image'")
