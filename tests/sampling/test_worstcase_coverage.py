import numpy as np
import pytest

from axojax.sampling import (
    coverage_report,
    max_similarity,
    plot_coverage,
    profile_features,
    select_adaptive,
    worst_case_set,
    write_report_json,
)

from .conftest import BLOCK, impacts, pulses


@pytest.mark.parametrize("measure", ["nrmse", "xcorr"])
def test_worst_case_members_are_least_similar(rng, measure):
    train = impacts(rng)
    held = pulses(rng, 60)
    sel = select_adaptive(train, 0.7, measure, block=BLOCK)
    wc = worst_case_set(held, sel, 10, voxels=np.arange(60) + 7)
    score = np.asarray(max_similarity(held, sel.profiles, measure))
    assert wc.measure == measure
    np.testing.assert_allclose(wc.max_similarity, np.sort(score)[:10])
    assert np.all(np.diff(np.asarray(wc.max_similarity)) >= 0)
    rows = np.asarray(wc.voxel) - 7
    np.testing.assert_array_equal(wc.profiles, held[rows])
    assert score[rows].max() <= np.delete(score, rows).min()


def test_worst_case_bad_input(rng):
    held = pulses(rng, 20)
    with pytest.raises(ValueError, match="n must be in 1..20"):
        worst_case_set(held, pulses(rng, 5), 75)
    with pytest.raises(ValueError, match="kept set is empty"):
        worst_case_set(held, np.zeros((0, 40)), 5)


def test_features_closed_form():
    t = np.linspace(0.0, 0.1, 101)  # 1 ms
    x = np.where((t >= 0.02) & (t < 0.05), 0.04, 0.0)[None]  # 30 samples at 0.04
    x = np.concatenate([x, np.zeros_like(x), -2 * x])
    f = profile_features(x, t)
    np.testing.assert_allclose(f["peak_strain"], [0.04, 0.0, 0.08])
    np.testing.assert_allclose(f["peak_strain_rate_per_s"], [40.0, 0.0, 80.0], rtol=1e-9)
    np.testing.assert_allclose(f["duration_s"], [0.03, 0.0, 0.03], atol=1e-12)


def test_coverage_report_and_figure(rng, tmp_path):
    pool = pulses(rng, 300)
    t = np.linspace(0.0, 0.04, pool.shape[1])
    rep = coverage_report(pool, pool, t, n_bins=10)
    for f in rep.features.values():
        assert f.ks_distance == 0.0 and f.bin_coverage == 1.0 and f.pool == f.kept
    low = pool[np.argsort(np.abs(pool).max(1))[:30]]  # only the 30 weakest profiles
    rep = coverage_report(pool, low, t, n_bins=10)
    assert rep.features["peak_strain"].bin_coverage < 0.5
    assert rep.features["peak_strain"].ks_distance > 0.8
    path = write_report_json(rep, tmp_path / "coverage.json")
    assert '"bin_coverage"' in path.read_text()
    with pytest.raises(ValueError, match="non-empty"):
        coverage_report(pool, pool[:0], t)
    matplotlib = pytest.importorskip("matplotlib")  # the optional `plots` extra
    matplotlib.use("Agg")
    fig = plot_coverage(rep, tmp_path / "coverage.png")
    assert (tmp_path / "coverage.png").stat().st_size > 0
    matplotlib.pyplot.close(fig)
