"""Vendor the AFQ-Browser tract streamlines as a compact NPZ (run once; the result ships in the package).

    pip download AFQ-Browser --no-deps -d /tmp/afq      # 0.4.6, BSD-3-Clause, never a dependency
    python experiments/vendor_afq_tracts.py /tmp/afq/AFQ_Browser-0.4.6-py3-none-any.whl

Reads `afqbrowser/site/client/data/streamlines.json` from the wheel (20 tracts, 5,012 streamlines x 100
points, mm) and writes `axojax/brain/data/afq_tracts.npz`: `points_mm` (S, 100, 3) float16 (S = 4,992),
`tract` (S,) int8 (index into `names`), `core_mm` (20, 100, 3) float16 (each tract's `coreFiber`), `names`
(20,) str, in the JSON's order. Coordinates are stored as shipped; the
translation that puts them on the MNI white matter is applied at load time (`axojax.brain.tracts`).
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "afqbrowser/site/client/data/streamlines.json"
TARGET = Path(__file__).resolve().parents[1] / "axojax" / "brain" / "data" / "afq_tracts.npz"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read(MEMBER))
    names, points, tract, cores = [], [], [], []
    for i, (name, lines) in enumerate(data.items()):
        names.append(name)
        if "coreFiber" not in lines:
            raise ValueError(f"{wheel}:{MEMBER}: {name} has no coreFiber")
        cores.append(np.asarray(lines["coreFiber"], dtype=np.float64))
        for key in sorted((k for k in lines if k != "coreFiber"), key=int):
            p = np.asarray(lines[key], dtype=np.float64)
            if p.shape != (100, 3):
                raise ValueError(f"{wheel}:{MEMBER}: {name}/{key} has shape {p.shape}, expected (100, 3)")
            points.append(p)
            tract.append(i)
    pts = np.stack(points).astype(np.float16)
    err = np.abs(pts.astype(np.float64) - np.stack(points)).max()
    np.savez_compressed(
        TARGET,
        points_mm=pts,
        tract=np.asarray(tract, np.int8),
        core_mm=np.stack(cores).astype(np.float16),
        names=np.asarray(names, dtype=np.str_),
    )
    print(
        f"{TARGET}: {len(names)} tracts, {len(pts)} streamlines, max float16 error {err:.3f} mm, "
        f"{TARGET.stat().st_size / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main(sys.argv[1])
