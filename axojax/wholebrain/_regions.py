"""Region labels of the white-matter voxels: from a label atlas (`io.read_label_atlas`) or coarse coordinate
bands (`coordinate_regions`, the default of `summary`; no atlas, no download)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from jaxtyping import Int

from ..brain import Brain

# Band edges of the default coordinate regions [mm, brain world frame: MNI RAS for the default brain].
DEFAULT_Y_EDGES_MM = (-40.0, 0.0)  # posterior | middle | anterior
DEFAULT_Z_EDGES_MM = (10.0,)  # inferior | superior


@dataclasses.dataclass(frozen=True, eq=False)
class RegionAtlas:
    """A region label per white-matter voxel and the region names.

    Attributes:
        labels: region label of each voxel (V,), in the brain's voxel order; 0 = unlabelled (left out of
            the per-region figures).
        names: name of each label > 0 [str]; labels present in `labels` but missing here are reported as
            "label <k>".
        source: where the regions come from (an atlas path, or "coordinate bands"), for reports.
    """

    labels: Int[np.ndarray, " vox"]
    names: Mapping[int, str]
    source: str

    def __post_init__(self):
        if self.labels.ndim != 1:
            raise ValueError(f"RegionAtlas.labels: need shape (V,), got {self.labels.shape}")
        if self.labels.size and self.labels.min() < 0:
            raise ValueError(f"{self.source}: region labels must be >= 0, got {int(self.labels.min())}")
        bad = [k for k in self.names if int(k) < 1]
        if bad:
            raise ValueError(f"{self.source}: region names need labels >= 1 (0 = unlabelled), got {bad}")


def _band_names(axis: str, edges: Sequence[float]) -> list[str]:
    if not edges:
        return [""]
    names = [f"{axis}<{edges[0]:g}mm"]
    names += [f"{lo:g}<={axis}<{hi:g}mm" for lo, hi in zip(edges[:-1], edges[1:])]
    return names + [f"{axis}>={edges[-1]:g}mm"]


def coordinate_regions(
    brain: Brain,
    *,
    y_edges_mm: Sequence[float | int] = DEFAULT_Y_EDGES_MM,
    z_edges_mm: Sequence[float | int] = DEFAULT_Z_EDGES_MM,
) -> RegionAtlas:
    """Coarse regions from voxel coordinates: hemisphere (x < 0 left, x >= 0 right) x y bands x z bands.

    Not anatomy: named by their coordinate ranges, e.g. "left y<-40mm z>=10mm". The defaults (y edges -40
    and 0 mm, z edge 10 mm) cut the MNI white matter into posterior / middle / anterior and inferior /
    superior parts, 12 regions, numbered 1.. in the order hemisphere, y band, z band.

    Args:
        brain: voxel centres [mm], world frame (RAS+: x increases to the subject's right).
        y_edges_mm: increasing band edges along y (posterior -> anterior) [mm].
        z_edges_mm: increasing band edges along z (inferior -> superior) [mm].

    Returns:
        A `RegionAtlas` with every voxel labelled (no label 0).

    Raises:
        ValueError: edges that are not strictly increasing.
    """
    for axis, edges in (("y", y_edges_mm), ("z", z_edges_mm)):
        e = np.asarray(edges, dtype=np.float64)
        if e.ndim != 1 or np.any(np.diff(e) <= 0) or not np.isfinite(e).all():
            raise ValueError(f"{axis}_edges_mm must be finite and strictly increasing, got {tuple(edges)}")
    coords = np.asarray(brain.coords_mm, dtype=np.float64)
    y_edges = np.asarray(y_edges_mm, dtype=np.float64)
    z_edges = np.asarray(z_edges_mm, dtype=np.float64)
    hemi = (coords[:, 0] >= 0.0).astype(np.int64)
    y_band = np.searchsorted(y_edges, coords[:, 1], side="right")
    z_band = np.searchsorted(z_edges, coords[:, 2], side="right")
    ny, nz = len(y_edges) + 1, len(z_edges) + 1
    labels = 1 + (hemi * ny + y_band) * nz + z_band
    y_names, z_names = _band_names("y", list(y_edges_mm)), _band_names("z", list(z_edges_mm))
    names = {}
    for h, hemi_name in enumerate(("left", "right")):
        for iy, y_name in enumerate(y_names):
            for iz, z_name in enumerate(z_names):
                parts = [hemi_name, y_name, z_name]
                names[1 + (h * ny + iy) * nz + iz] = " ".join(p for p in parts if p)
    return RegionAtlas(labels=labels.astype(np.int32), names=names, source="coordinate bands")
