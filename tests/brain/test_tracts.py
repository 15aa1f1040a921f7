import importlib.util
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from axojax.brain import FIBER_SOURCES, brain_from_mask
from axojax.brain.tracts import AFQ_TRACTS_FILE, Tracts, afq_tracts, tract_fibers, with_tract_fibers

from .test_orientation import BUNDLES, HAVE_DIPY, _translation_to_white_matter


@pytest.fixture(scope="module")
def tracts() -> Tracts:
    return afq_tracts()


def test_vendored_tracts(tracts):
    assert AFQ_TRACTS_FILE.stat().st_size < 3e6
    assert (
        "Redistribution and use in source and binary forms"
        in (AFQ_TRACTS_FILE.parent / "AFQ_BROWSER_NOTICE.txt").read_text()
    )
    assert tracts.n_tracts == 20 and tracts.n_nodes == 100
    assert tracts.points_mm.shape == (4992, 100, 3) and tracts.core_mm.shape == (20, 100, 3)
    assert np.bincount(tracts.tract, minlength=20).min() >= 30
    # the corticospinal tracts start in the brainstem and end at the cortex, on their own side
    for side, sign in (("Left", -1), ("Right", 1)):
        core = tracts.core_mm[tracts.names.index(f"{side} Corticospinal")]
        assert core[0, 2] < -10 and core[-1, 2] > 60
        assert sign * core[-1, 0] > 10
    # every streamline runs the way its core runs
    ref = tracts.core_mm[tracts.tract]
    same = np.linalg.norm(tracts.points_mm - ref, axis=-1).mean(1)
    flipped = np.linalg.norm(tracts.points_mm[:, ::-1] - ref, axis=-1).mean(1)
    assert np.all(same <= flipped)


def test_afq_tracts_refuses_bad_file(tmp_path):
    bad = tmp_path / "t.npz"
    np.savez(
        bad,
        points_mm=np.zeros((3, 10, 3)),
        tract=np.array([0, 1, 5]),
        core_mm=np.zeros((2, 10, 3)),
        names=np.array(["a", "b"]),
    )
    with pytest.raises(ValueError, match=r"t\.npz: tract"):
        afq_tracts(bad)
    np.savez(bad, points_mm=np.zeros((3, 10, 3)))
    with pytest.raises(ValueError, match="missing fields"):
        afq_tracts(bad)


def _line_brain():
    """A 9 x 9 x 9 brain at 2 mm (identity rotation) and one straight bundle along (1, 1, 0)/sqrt(2)
    through the centre of the z = 4 plane."""
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    brain = brain_from_mask(np.ones((9, 9, 9), bool), affine)
    s = np.linspace(-6.0, 6.0, 25)
    line = np.stack([8.0 + s, 8.0 + s, np.full_like(s, 8.0)], -1)
    return brain, Tracts(("line",), line[None].astype(np.float32), np.zeros(1, np.int32), line[None])


def test_tract_fibers_closed_form():
    brain, line = _line_brain()
    dirs, source = tract_fibers(brain, line, dilation_voxels=1)
    ijk = np.asarray(brain.voxel_ijk)
    on = (ijk[:, 0] == ijk[:, 1]) & (ijk[:, 2] == 4) & (np.abs(ijk[:, 0] - 4) <= 2)
    assert np.all(source[on] == 1)
    np.testing.assert_allclose(np.abs(dirs[source > 0] @ np.array([1, 1, 0]) / np.sqrt(2)), 1.0, atol=1e-5)
    # one voxel off the line (in z): the dilation; far off: nothing
    assert source[np.flatnonzero((ijk == [4, 4, 5]).all(1))[0]] == 2
    assert source[np.flatnonzero((ijk == [4, 4, 7]).all(1))[0]] == 0
    _, no_dilation = tract_fibers(brain, line, dilation_voxels=0)
    assert set(np.unique(no_dilation)) == {0, 1}
    with pytest.raises(ValueError, match="dilation_voxels"):
        tract_fibers(brain, line, dilation_voxels=-1)


def test_with_tract_fibers_keeps_the_rest():
    brain, line = _line_brain()
    new = with_tract_fibers(brain, line)
    source = np.asarray(new.fiber_source)
    same = source == FIBER_SOURCES.index("synthetic")
    assert 0 < same.sum() < brain.n_voxels
    np.testing.assert_allclose(np.asarray(new.fiber_dir)[same], np.asarray(brain.fiber_dir)[same], atol=1e-6)
    assert np.all(np.asarray(brain.fiber_source) == 0)  # the original brain is unchanged
    assert np.all(np.asarray(new.with_fibers(np.asarray(new.fiber_dir)).fiber_source) == 3)


def test_default_brain_tract_coverage(mni_brain):
    source = np.bincount(np.asarray(mni_brain.fiber_source), minlength=4) / mni_brain.n_voxels
    # 2 mm: 18.8 % of the white matter has a streamline, 27.6 % more a neighbour with one; 53.6 % synthetic
    assert 0.17 < source[1] < 0.21 and 0.25 < source[2] < 0.30 and source[3] == 0
    # corona radiata superior-inferior; SLF and ILF anterior-posterior (tracts); callosal body left-right
    # (no AFQ tract there: the synthetic field)
    for point, axis, source in (
        ((-22.0, -20.0, 30.0), 2, 1),
        ((-38.0, -30.0, 28.0), 1, 1),
        ((40.0, -40.0, 0.0), 1, 2),
        ((0.0, -10.0, 24.0), 0, 0),
    ):
        i = int(np.argmin(np.linalg.norm(np.asarray(mni_brain.coords_mm) - np.asarray(point), axis=1)))
        assert np.asarray(mni_brain.fiber_source)[i] == source
        assert abs(float(mni_brain.fiber_dir[i, 0, axis])) > 0.85


def _bundle_agreement(brain, tmp_dir):
    """Median |cos| between each dipy minimal_bundles segment (rigidly put on the white matter, as in
    test_orientation) and the brain's fiber direction in the white-matter voxel of its midpoint."""
    files = Path(importlib.util.find_spec("dipy").submodule_search_locations[0]) / "data" / "files"
    with zipfile.ZipFile(files / "minimal_bundles.zip") as z:
        z.extractall(tmp_dir)
    inv = np.linalg.inv(np.asarray(brain.affine, np.float64))
    mask = np.asarray(brain.mask)
    grid = brain.to_volume(np.asarray(brain.fiber_dir)[:, 0])
    cos = {b: [] for b in BUNDLES}
    for subject in sorted(Path(tmp_dir).glob("sub_*")):
        lines = {b: nib.streamlines.load(subject / f"{b}.trk").streamlines for b in BUNDLES}
        shift = _translation_to_white_matter(np.concatenate([lines[b].get_data() for b in BUNDLES]), brain)
        for b in BUNDLES:
            p = [np.asarray(sl, np.float64) + shift for sl in lines[b]]
            seg = np.concatenate([np.diff(q, axis=0) for q in p])
            mid = np.concatenate([0.5 * (q[1:] + q[:-1]) for q in p])
            ijk = np.rint(mid @ inv[:3, :3].T + inv[:3, 3]).astype(np.int64)
            ok = np.all((ijk >= 0) & (ijk < mask.shape), axis=1)
            ok[ok] = mask[ijk[ok, 0], ijk[ok, 1], ijk[ok, 2]]
            d = grid[ijk[ok, 0], ijk[ok, 1], ijk[ok, 2]]
            cos[b].append(np.abs(np.sum(d * seg[ok], 1)) / np.linalg.norm(seg[ok], axis=1))
    return {b: float(np.median(np.concatenate(cos[b]))) for b in BUNDLES}


@pytest.mark.skipif(not HAVE_DIPY, reason="dipy not installed")
def test_default_fibers_against_dipy_bundles(tmp_path, mni_brain):
    medians = _bundle_agreement(mni_brain, tmp_path)
    # white-matter segments, default brain (tracts + synthetic) vs the synthetic field alone:
    # AF_L 0.663 vs 0.588, CST_R 0.827 vs 0.781, CC_ForcepsMajor 0.810 vs 0.805 (docs/brain.md)
    assert medians["AF_L"] > 0.63
    assert medians["CST_R"] > 0.80
    assert medians["CC_ForcepsMajor"] > 0.78
