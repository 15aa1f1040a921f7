"""One wrapper for every file the pipeline reads: a damaged file becomes one ValueError naming it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def read_input(path: Any, what: str, fn: Callable[[], T]) -> T:
    """`fn()`, with any failure other than our own checks (ValueError, FileNotFoundError, ImportError)
    turned into ValueError "PATH: cannot read WHAT (error)".

    The readers of the stages check contents and name the field; the libraries under them (nibabel,
    scipy.io, numpy, lasso) raise assorted errors on truncated or foreign files. This keeps those off
    the command line's stack traces.
    """
    try:
        return fn()
    except (ValueError, FileNotFoundError, ImportError):
        raise
    except Exception as err:  # noqa: BLE001 - the io edge: any library failure on a bad file
        raise ValueError(f"{path}: cannot read {what} ({type(err).__name__}: {err})") from err
