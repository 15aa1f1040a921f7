"""Published behaviours (SCIENCE.md §3): every target of `published_targets()` met by the default
parameters, each test naming its source; plus behaviours checked on their own (female preset)."""

import numpy as np
import pytest

from axojax.axon import AxonParams, evaluate, published_targets, ramp_hold, simulate
from axojax.axon._targets import NAKADATE_RATES_PER_S, NAKADATE_STRAINS, nakadate_positive

from .conftest import AMPS, RATES, T_FAST

TARGETS = published_targets()


@pytest.fixture(scope="module")
def quantities():
    """Every target's quantity for the male preset, float64 (one forward pass per time grid)."""
    return dict(zip((tg.name for tg in TARGETS), evaluate(TARGETS, AxonParams.male()), strict=True))


@pytest.mark.parametrize(
    "target",
    [pytest.param(tg, id=f"{tg.source.split(' (')[0]}: {tg.name}") for tg in TARGETS],
)
def test_published_target(target, quantities):
    """The target's quantity lies in its published range (source in the test id and in `target.source`)."""
    q = quantities[target.name]
    assert np.isfinite(q), target.name
    assert float(target.excess(q)) == 0.0, (
        f"{target.name} ({target.source}): {q:.4g} not in {target.range_text()}"
    )


def test_nakadate_all_twelve_cells_are_targets():
    """Nakadate et al. 2017: all 12 cells (3 strains x 4 rates) are in the target set, 5 positive."""
    names = [tg.name for tg in TARGETS if tg.name.startswith("Nakadate")]
    assert len(names) == 12
    assert sum(nakadate_positive(s, r) for s in NAKADATE_STRAINS for r in NAKADATE_RATES_PER_S) == 5
    assert nakadate_positive(0.15, 50.0) and nakadate_positive(0.20, 30.0)
    assert not nakadate_positive(0.15, 30.0) and not nakadate_positive(0.10, 70.0)


def test_female_preset_strains_microtubules_more(ramp_grid):
    """Dollé et al. 2018 (Exp Neurol 300:121): female axons (thinner, fewer MTs) are at higher MT
    rupture risk under the same load: the female preset gives higher peak MT strain."""
    from .conftest import ramp

    _, male = ramp_grid
    e = np.stack([ramp(T_FAST, r, a) for r in RATES for a in AMPS])
    female = np.asarray(simulate(T_FAST, e, AxonParams.female()).as_array()).reshape(male.shape)
    moving = slice(1, None)  # nonzero amplitudes
    assert np.all(female[:, moving, 0] > male[:, moving, 0])


def test_short_microtubules_lose_their_taus_first():
    """Ahmadzadeh, Smith & Shenoy 2015 (Biophys J 109:2328): short MTs are more prone to detach from the
    bundle (lose their taus) than long ones. At 50 /s to 10 % the 4 um class fails a larger tau
    fraction than the 16 um class, at its peak and at every sample until then; this comes from the
    coupled bundle (each MT bridges a neighbour's end gap, fewer taus carry it on a short MT): the
    affine mean-field bundle (mt_bundle_coupling = 0) gives the opposite order."""
    t = np.linspace(0.0, 0.04, 161)  # [s]
    e = ramp_hold(t, 50.0, 0.10)
    coupled = simulate(t, e, AxonParams.male(), history=True).history.tau_failure_pct_by_class
    mean_field = simulate(
        t, e, AxonParams.male().replace(mt_bundle_coupling=0.0), history=True
    ).history.tau_failure_pct_by_class
    short, long = np.asarray(coupled[:, 0]), np.asarray(coupled[:, -1])
    assert short.max() > long.max()
    upto = slice(1, int(np.argmax(short)) + 1)  # loading until the short class peaks
    assert np.all(short[upto] >= long[upto])
    assert np.asarray(mean_field[:, 0]).max() < np.asarray(mean_field[:, -1]).max()
