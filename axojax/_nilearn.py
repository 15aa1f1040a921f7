"""Files that ship inside the installed nilearn wheel (the MNI ICBM152 2009 maps): found, never downloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["nilearn_file"]


def nilearn_file(rel: str, what: str) -> Path:
    """Path of `rel` inside the installed nilearn package (nilearn is not imported, its fetchers never run).

    Args:
        rel: path inside the package, e.g. "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz".
        what: what needs it, for the error message (e.g. "the default brain").

    Raises:
        FileNotFoundError: nilearn is not installed or does not ship the file.
    """
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{what} needs nilearn installed (pip install nilearn): no download")
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found in the installed nilearn ({what})")
    return path
