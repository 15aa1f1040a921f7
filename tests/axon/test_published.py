"""Published behaviours (SCIENCE.md §3): every target of `published_targets()` met by the default
parameters, each test naming its source; plus behaviours checked on their own (female preset)."""

import numpy as np
import pytest

from axojax.axon import AxonParams, evaluate, published_targets, simulate
from axojax.axon._targets import NAKADATE_RATES_PER_S, NAKADATE_STRAINS, nakadate_positive

from .conftest import AMPS, RATES, T_FAST

TARGETS = published_targets()
# not reproduced by the mean-field bundle (docs/axon.md, "Known limits"): reported, not fitted
NOT_REPRODUCED = {"50 /s to 10 %: short - long MT tau failure"}


@pytest.fixture(scope="module")
def quantities():
    """Every target's quantity for the male preset, float64 (one forward pass per time grid)."""
    return dict(zip((tg.name for tg in TARGETS), evaluate(TARGETS, AxonParams.male()), strict=True))


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(
            tg,
            id=f"{tg.source.split(' (')[0]}: {tg.name}",
            marks=[pytest.mark.xfail(strict=True, reason="mean-field bundle")]
            if tg.name in NOT_REPRODUCED
            else [],
        )
        for tg in TARGETS
    ],
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
