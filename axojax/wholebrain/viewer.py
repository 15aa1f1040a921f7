"""One self-contained HTML page (`maps/index.html`) with an interactive slice viewer of every output.

Each output is a nilearn `view_img` (brainsprite) over the MNI T1 from nilearn's wheel, resampled to 2 mm to
keep the page small, with a sequential colour scale from 0 to the map's maximum. nilearn (>= 0.11) inlines its
JavaScript (jQuery, brainsprite) and images in the page; the one external reference of its template (a favicon
on GitHub) is removed, so opening the page fetches nothing. Each viewer sits in an `<iframe srcdoc>`, so the
viewers' scripts do not interfere.
"""

from __future__ import annotations

import html
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from jaxtyping import ArrayLike, Bool, Float

from ..brain import Brain
from ..surrogate import OUTPUT_NAMES
from ._figures import CMAP, TRANSPARENT_BELOW, _label, _vmax, hot_spot, mni_t1_path, on_mni
from ._summary import OUTPUT_UNITS

VIEWER_BACKGROUND_MM = 2.0  # voxel size of the T1 background in the page
_EXTERNAL = re.compile(r"""<link[^>]*\bhref\s*=\s*["']https?://[^>]*>""", re.IGNORECASE)
# brainsprite reads its canvases back (getImageData) on every redraw; Chromium then logs a console warning
# asking for `willReadFrequently`. Giving 2-D contexts that attribute (before brainsprite runs) silences it.
_READBACK_HINT = (
    "<script>(function () { var get = HTMLCanvasElement.prototype.getContext;"
    " HTMLCanvasElement.prototype.getContext = function (kind, options) {"
    ' if (kind === "2d") { options = Object.assign({willReadFrequently: true}, options || {}); }'
    " return get.call(this, kind, options); }; })();</script>"
)
_ANY_URL_ATTR = re.compile(r"""\b(?:src|href)\s*=\s*["']\s*(?:https?:)?//""", re.IGNORECASE)


def external_references(page: str) -> list[str]:
    """`src`/`href` attributes of `page` that point to the network (http, https or protocol-relative)."""
    return [m.group(0) for m in _ANY_URL_ATTR.finditer(page)]


def _background(brain: Brain, background):
    import nibabel as nib
    from nilearn import image

    if background == "auto":
        background = mni_t1_path() if on_mni(brain) else None
    if background is None:
        return False
    img = nib.load(background)
    return image.resample_img(
        img,
        target_affine=np.diag([VIEWER_BACKGROUND_MM] * 3),
        interpolation="continuous",
        force_resample=True,
        copy_header=True,
    )


def _view(img, bg, name: str, vmax: float, cut) -> str:
    from nilearn import plotting

    view = plotting.view_img(
        img,
        bg_img=bg,
        cut_coords=tuple(float(c) for c in cut),
        title=_label(name),
        threshold=TRANSPARENT_BELOW * vmax,
        cmap=CMAP,
        symmetric_cmap=False,
        vmin=0.0,
        vmax=vmax,
        black_bg=True,
        resampling_interpolation="nearest",
        width_view=800,
    )
    page = _EXTERNAL.sub("", view.get_standalone())
    page = re.sub(r"<head>", "<head>" + _READBACK_HINT, page, count=1, flags=re.IGNORECASE)
    left = external_references(page)
    if left:  # a nilearn version whose page loads something from the network
        raise RuntimeError(f"nilearn view_img page refers to the network: {left[:3]}")
    return page


def write_viewer(
    path: str | os.PathLike,
    values: Float[ArrayLike, "vox n"],
    brain: Brain,
    *,
    ood: Bool[ArrayLike, " vox"] | None = None,
    names: Sequence[str] = OUTPUT_NAMES,
    title: str | None = None,
    background: str | os.PathLike | None = "auto",
) -> Path:
    """Write the interactive viewer page of every output map (plus the out-of-range voxels, if any).

    Args:
        path: the HTML file (e.g. DIR/maps/index.html), written under a temporary name and moved in place.
        values: per-voxel outputs (V, n) [strains -, failures %].
        brain: grid, affine [mm] and voxels.
        ood: per-voxel out-of-distribution flags (V,); a last viewer shows them when any is set.
        names: output name of each column.
        title: page heading (e.g. the impact).
        background: "auto" (the MNI T1 when the brain lies on MNI white matter), a NIfTI path, or None.

    Returns:
        The path written.

    Raises:
        ValueError: values not of shape (V, len(names)), V = 0, or `ood` not (V,).
        RuntimeError: the installed nilearn writes a page that loads something from the network.
    """
    import nibabel as nib

    v = np.asarray(values, dtype=np.float32)
    names = tuple(str(x) for x in names)
    if v.ndim != 2 or v.shape != (brain.n_voxels, len(names)) or brain.n_voxels == 0:
        raise ValueError(
            f"write_viewer: values need shape ({brain.n_voxels}, {len(names)}) with V > 0, got {v.shape}"
        )
    flags = np.zeros(brain.n_voxels, bool) if ood is None else np.asarray(ood, bool)
    if flags.shape != (brain.n_voxels,):
        raise ValueError(f"write_viewer: ood needs shape ({brain.n_voxels},), got {flags.shape}")
    affine = np.asarray(brain.affine, np.float64)
    sections = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # nilearn/numpy notes on masked arrays and resampling
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        bg = _background(brain, background)
        layers = [(name, v[:, j]) for j, name in enumerate(names)]
        if flags.any():
            layers.append(("out_of_range", flags.astype(np.float32)))
        for name, col in layers:
            vmax = _vmax(col)
            page = _view(nib.Nifti1Image(brain.to_volume(col), affine), bg, name, vmax, hot_spot(col, brain))
            unit = OUTPUT_UNITS.get(name, "")
            if name == "out_of_range":
                note = f"{int(flags.sum())} voxels outside the surrogate's training range (1 = out of range)"
            else:
                note = (
                    f"max {float(col.max()):.4g} {unit}, p95 {float(np.percentile(col, 95)):.4g} {unit}; "
                    f"colour scale 0 to {vmax:.4g} {unit}, 0 transparent"
                )
            sections.append(
                f'<section id="{html.escape(name)}"><h2>{html.escape(_label(name))}</h2>'
                f"<p>{html.escape(note)}</p>"
                f'<iframe title="{html.escape(name)}" srcdoc="{html.escape(page, quote=True)}"></iframe>'
                "</section>"
            )
    heading = html.escape(title or "axojax maps")
    contents = " · ".join(f'<a href="#{html.escape(n)}">{html.escape(n)}</a>' for n, _ in layers)
    ood_line = (
        f"{int(flags.sum())} of {brain.n_voxels} voxels outside the training range" if ood is not None else ""
    )
    doc = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
        f"{heading}</title><style>body{{font-family:sans-serif;background:#111;color:#eee;margin:1em}}"
        "a{color:#9cf}iframe{width:840px;height:430px;border:0;background:#000}"
        f"</style></head><body><h1>{heading}</h1><p>{contents}</p><p>{html.escape(ood_line)}</p>"
        + "".join(sections)
        + "</body></html>\n"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return path
