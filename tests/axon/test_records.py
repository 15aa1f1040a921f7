"""One source of truth: the parameter records build the presets and the docs table."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from axojax.axon import RECORDS, AxonParams, parameter_table
from axojax.axon._records import FEMALE_RULES, Record, record

DOCS = Path(__file__).resolve().parents[2] / "docs" / "axon.md"


def test_docs_table_is_generated_from_the_records():
    """docs/axon.md's parameter table equals `parameter_table()` (regenerate with
    `python experiments/calibrate_axon.py --write-docs`)."""
    m = re.search(r"<!-- params:begin -->\n(.*?)\n<!-- params:end -->", DOCS.read_text(), flags=re.S)
    assert m is not None, "docs/axon.md lacks the <!-- params:begin/end --> markers"
    assert m.group(1) == parameter_table()


def test_every_field_has_exactly_one_record():
    names = [r.name for r in RECORDS]
    assert sorted(names) == sorted(f.name for f in dataclasses.fields(AxonParams))
    assert len(set(names)) == len(names)


def test_presets_are_the_records():
    male, female = AxonParams.male(), AxonParams.female()
    for r in RECORDS:
        np.testing.assert_array_equal(getattr(male, r.name), np.asarray(r.value))
        factor = FEMALE_RULES.get(r.name, 1.0)
        np.testing.assert_allclose(getattr(female, r.name), np.asarray(r.value) * factor, rtol=1e-6)


def test_calibrated_records_name_their_behaviour_and_lie_in_bounds():
    for r in RECORDS:
        if r.mark == "calibrated":
            assert r.calibrated_against and r.bounds is not None, r.name
        if r.bounds is not None:
            assert r.bounds[0] < float(np.min(r.value)) < r.bounds[1], r.name
    with pytest.raises(ValueError, match="calibrated value must name"):
        Record("x", 1.0, "-", "s", "calibrated")
    with pytest.raises(KeyError, match="known"):
        record("no_such_field")
