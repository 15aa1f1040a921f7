import numpy as np
import pytest

from axojax.brain import brain_from_mask
from axojax.wholebrain import plot_slices

from .conftest import small_affine


@pytest.fixture
def brain():
    mask = np.zeros((6, 7, 5), bool)
    mask[1:5, 2:6, 1:4] = True
    return brain_from_mask(mask, small_affine(), np.tile([0.0, 1.0, 0.0], (int(mask.sum()), 1)))


def test_plot_slices_writes_png(tmp_path, brain):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(2)
    values = rng.uniform(0.0, 1.0, size=(brain.n_voxels, 4)).astype(np.float32)
    path = plot_slices(values, brain, tmp_path / "slices.png", title="test", dpi=50)  # through the max
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
    one = plot_slices(
        values[:, 2:3], brain, tmp_path / "tau.png", names=("tau_failure_pct",), through="centre", dpi=50
    )
    assert one.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="through"):
        plot_slices(values, brain, tmp_path / "x.png", through="min")
    with pytest.raises(ValueError, match="shape"):
        plot_slices(values[:, :2], brain, tmp_path / "x.png")
