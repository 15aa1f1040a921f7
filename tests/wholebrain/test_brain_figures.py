"""nilearn figures on the MNI T1 and the self-contained viewer page (with a real headless Chromium)."""

import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from axojax.brain import brain_from_mask, default_brain
from axojax.wholebrain import hot_spot, on_mni, plot_brain_maps, write_viewer
from axojax.wholebrain.viewer import external_references

pytest.importorskip("matplotlib")

NAMES = ("peak_mt_strain", "tau_failure_pct")
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def mni6():
    """The embedded brain at 6 mm (3,452 voxels), synthetic fibers: a small brain in MNI space."""
    return default_brain(6.0, tracts=False)


@pytest.fixture(scope="module")
def maps(mni6):
    """A bump of injury centred in the right corona radiata, and the voxels near its peak flagged OOD."""
    c = np.asarray(mni6.coords_mm, np.float64)
    r = np.exp(-np.sum((c - np.array([24.0, -12.0, 30.0])) ** 2, axis=1) / (2 * 15.0**2))
    values = np.stack([0.06 * r, 40.0 * r**2], axis=1).astype(np.float32)
    return values, r > 0.8


def test_hot_spot_cuts_through_the_bulk_of_the_hot_voxels(mni6):
    c = np.asarray(mni6.coords_mm, np.float64)
    bump = np.exp(-np.sum((c - np.array([-20.0, 10.0, 20.0])) ** 2, axis=1) / (2 * 10.0**2))
    lone = np.argmin(np.sum((c - np.array([30.0, -60.0, 0.0])) ** 2, axis=1))
    v = bump.copy()
    v[lone] = 1.5  # the single largest value, but alone
    spot = hot_spot(v, mni6)
    assert np.linalg.norm(spot - np.array([-20.0, 10.0, 20.0])) < 8.0
    # a constant map: the voxel nearest the centre of the white matter
    assert np.linalg.norm(hot_spot(np.zeros(mni6.n_voxels), mni6) - c.mean(0)) < 6.0


def test_on_mni(mni6):
    assert on_mni(mni6)
    affine = np.asarray(mni6.affine, np.float64).copy()
    affine[0, 3] += 150.0  # the same mask 150 mm to the right: off the MNI head
    assert not on_mni(brain_from_mask(np.asarray(mni6.mask), affine))


def test_figures_on_the_brain(tmp_path, mni6, maps):
    values, ood = maps
    out = plot_brain_maps(
        values, mni6, tmp_path / "map_slices.png", ood=ood, names=NAMES, title="bump", dpi=60
    )
    assert set(out) == {"summary", *NAMES}
    from matplotlib.image import imread

    for p in out.values():
        img = imread(p)[..., :3]
        assert img.std() > 0.1  # anatomy and colour, not a blank page
    # the T1 (grey) and the map colours (plasma: yellow at the top) and the cyan OOD outline all appear
    summ = imread(out["summary"])[..., :3]
    grey = (np.ptp(summ, axis=-1) < 0.02) & (summ.mean(-1) > 0.3)
    yellow = (summ[..., 0] > 0.85) & (summ[..., 1] > 0.8) & (summ[..., 2] < 0.3)
    cyan = (summ[..., 0] < 0.4) & (summ[..., 1] > 0.7) & (summ[..., 2] > 0.7)
    assert grey.mean() > 0.05 and yellow.sum() > 20 and cyan.sum() > 10
    no_ood = plot_brain_maps(
        values[:, :1], mni6, tmp_path / "b.png", names=NAMES[:1], per_output=False, dpi=60
    )
    assert set(no_ood) == {"summary"}
    cyan_none = imread(no_ood["summary"])[..., :3]
    assert ((cyan_none[..., 0] < 0.4) & (cyan_none[..., 1] > 0.7) & (cyan_none[..., 2] > 0.7)).sum() == 0
    with pytest.raises(ValueError, match="values need shape"):
        plot_brain_maps(values[:, :1], mni6, tmp_path / "x.png", names=NAMES)


def _iframes(page: str) -> list[str]:
    return [html.unescape(f) for f in re.findall(r'srcdoc="([^"]*)"', page)]


def _colour_range(inner: str) -> tuple[float, float]:
    m = re.search(r'"colorMap": (\{[^}]*\})', inner)
    scale = json.loads(m.group(1))
    return scale["min"], scale["max"]


@pytest.fixture(scope="module")
def viewer(tmp_path_factory, mni6, maps):
    values, ood = maps
    path = write_viewer(
        tmp_path_factory.mktemp("viewer") / "index.html", values, mni6, ood=ood, names=NAMES, title="bump"
    )
    return path, values


def test_viewer_page_is_self_contained(viewer):
    path, values = viewer
    page = path.read_text()
    frames = _iframes(page)
    assert len(frames) == 3  # two outputs and the out-of-range voxels
    for doc in (page, *frames):
        assert external_references(doc) == []
        assert not re.search(r"<script[^>]+src\s*=", doc, re.IGNORECASE)
    for inner in frames:
        assert "brainsprite" in inner and "jQuery" in inner and "data:image/png;base64," in inner
    # sequential scales from 0 to the map's maximum (not a diverging -max..max)
    for j, inner in enumerate(frames[:2]):
        lo, hi = _colour_range(inner)
        assert lo == 0.0
        assert hi == pytest.approx(float(values[:, j].max()), rel=1e-5)
    assert "tau_failure_pct [%]" in page
    assert path.stat().st_size < 2e6
    assert external_references('<img src="https://x.org/a.png"><script src="//cdn.x/y.js">') != []


def _chromium(path, out_dir):
    """Load `path` in headless Chromium; returns (console lines, screenshot path)."""
    shot = out_dir / "shot.png"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={out_dir / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=900,700",
        "--virtual-time-budget=3000",
        f"--screenshot={shot}",
        path.as_uri(),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [line for line in (run.stdout + run.stderr).splitlines() if "CONSOLE" in line]
    return console, shot


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: apt-get install chromium)")
def test_viewer_in_headless_chromium(tmp_path, viewer):
    from matplotlib.image import imread

    # the check sees console errors: a page that logs one and throws
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('boom'); notDefined();</script></body></html>")
    console, _ = _chromium(bad, tmp_path / "bad")
    assert any("boom" in line for line in console) and any("notDefined" in line for line in console)

    console, shot = _chromium(viewer[0], tmp_path / "good")
    assert console == []
    img = imread(shot)[..., :3]
    assert img.shape[:2] == (700, 900)
    viewer_box = img[200:700, :]  # below the heading: the first viewer
    assert viewer_box.std() > 0.1
    colours = np.unique((viewer_box * 15).astype(np.int32).reshape(-1, 3), axis=0)
    assert len(colours) > 40  # T1 greys and the colour scale, not a blank or single-colour page


def test_brain_results_writes_figures_and_tracts(tmp_path, mni6, maps):
    from axojax.wholebrain.results import brain_results

    values, ood = maps
    four = np.concatenate([values, values], axis=1)  # the four outputs of the pipeline
    tracts, files, notes = brain_results(
        four,
        mni6,
        ood=ood,
        viewer=None,  # write_viewer is tested above
        figure=tmp_path / "figures" / "map_slices_x.png",
        per_output=False,
        title="bump",
    )
    assert notes == [] and len(tracts["items"]) == 20
    assert set(files) == {"figure_summary", "figure_tracts", "figure_tract_profiles"}
    assert files["figure_tracts"].endswith("figures/tracts_x.png")
    assert files["figure_tract_profiles"].endswith("figures/tract_profiles_x.png")
    for p in files.values():
        assert (tmp_path / p).stat().st_size > 10_000
    # the right corticospinal tract passes the bump (right corona radiata), the left one does not
    mean = {it["name"]: it["outputs"]["tau_failure_pct"]["mean"] for it in tracts["items"]}
    assert mean["Right Corticospinal"] > 5 * mean["Left Corticospinal"]
