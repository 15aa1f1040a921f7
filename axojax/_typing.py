"""Shared jaxtyping aliases (cf. diffrax `_custom_types.py`)."""

from __future__ import annotations

from typing import TypeAlias

from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

ScalarLike: TypeAlias = float | Float[ArrayLike, ""]
TimeGrid: TypeAlias = Float[ArrayLike, " time"]
Profile: TypeAlias = Float[ArrayLike, " time"]
ProfileBatch: TypeAlias = Float[ArrayLike, "batch time"]

__all__ = ["Array", "ArrayLike", "Float", "PRNGKeyArray", "ScalarLike", "TimeGrid", "Profile", "ProfileBatch"]
