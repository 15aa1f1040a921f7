"""The result of a simulation campaign (plain NumPy arrays), failure reasons, and the training view."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import diffrax
import numpy as np
from jaxtyping import Bool, Float, Int

from ..axon import OUTPUT_NAMES

# `status_by_attempt` entry of an attempt that was not run (the row succeeded earlier).
NOT_RUN = -1


def status_names() -> dict[int, str]:
    """diffrax result codes (`AxonResponse.status`) -> their names, e.g. 1 -> "max_steps_reached"."""
    # equinox enumerations expose no public listing; these two private tables are stable since
    # diffrax 0.5 (the axon model reads the code itself as `sol.result._value`).
    items = diffrax.RESULTS._name_to_item
    return {int(item._value): name for name, item in items.items()}


def status_reason(code: int, success: bool = False) -> str:
    """One line of text for a diffrax result code, e.g. "max_steps_reached: The maximum number of
    solver steps was reached. Try increasing `max_steps`." A code of 0 on a row that is not
    successful means the solve succeeded but gave a non-finite output; -1 means not run."""
    code = int(code)
    if code == NOT_RUN:
        return "not run"
    if code == 0:
        return "successful" if success else "non-finite output from a successful solve"
    names = status_names()
    if code not in names:
        return f"unknown diffrax result code {code}"
    messages = diffrax.RESULTS._index_to_message
    first_line = messages[code].strip().splitlines()[0] if code < len(messages) else ""
    return f"{names[code]}: {first_line}" if first_line else names[code]


@dataclasses.dataclass(frozen=True, eq=False)
class CampaignResult:
    """Outputs of the axon model for every selected profile, with per-row solver bookkeeping.

    Attributes:
        t_s: time grid [s], shape (T,).
        profiles: fiber strain profiles [-] (fractions), shape (N, T), in selection order.
        ids: origin of each profile (impact index, voxel index), shape (N, 2); -1 where not given.
        outputs: the four outputs in `OUTPUT_NAMES` order, shape (N, 4): strains [-] as fractions,
            failures in percent (0-100); NaN where `success` is False.
        success: the row's last solve succeeded and gave finite outputs, shape (N,).
        status: diffrax result code of the row's last attempt (0 = successful), shape (N,).
        attempts: solves run for the row (1 = first try succeeded; 0 = not run yet), shape (N,).
        status_by_attempt: diffrax result code of each attempt, shape (N, max attempts); -1 where
            that attempt was not run.
        out_dir: the campaign directory (None for an in-memory result).
    """

    t_s: Float[np.ndarray, " time"]
    profiles: Float[np.ndarray, "n time"]
    ids: Int[np.ndarray, "n 2"]
    outputs: Float[np.ndarray, "n 4"]
    success: Bool[np.ndarray, " n"]
    status: Int[np.ndarray, " n"]
    attempts: Int[np.ndarray, " n"]
    status_by_attempt: Int[np.ndarray, "n n_attempts"]
    out_dir: Path | None = None

    @property
    def n_profiles(self) -> int:
        return int(self.profiles.shape[0])

    @property
    def output_names(self) -> tuple[str, ...]:
        return OUTPUT_NAMES

    @property
    def usable(self) -> Bool[np.ndarray, " n"]:
        """Rows fit for training: successful with all four outputs finite."""
        return self.success & np.all(np.isfinite(self.outputs), axis=-1)

    def failure_reasons(self) -> dict[int, str]:
        """Row index -> why it failed (the reason of every attempt), for each row not `usable`."""
        reasons = {}
        for i in np.flatnonzero(~self.usable):
            codes = [int(c) for c in self.status_by_attempt[i] if c != NOT_RUN]
            if not codes:
                reasons[int(i)] = "not run"
                continue
            texts = [f"attempt {k + 1}: {status_reason(c)}" for k, c in enumerate(codes)]
            reasons[int(i)] = "; ".join(texts)
        return reasons


def training_arrays(
    result: CampaignResult,
) -> tuple[Float[np.ndarray, "m time"], Float[np.ndarray, "m 4"]]:
    """The rows of a campaign that may enter a training set: failed solves are left out, never
    passed on as NaN.

    Args:
        result: a `CampaignResult` (from `run_campaign` or `load_campaign`).

    Returns:
        profiles [-], shape (M, T), and outputs (M, 4) in `OUTPUT_NAMES` order, M = number of
        `result.usable` rows (their origins: `result.ids[result.usable]`).
    """
    keep = result.usable
    return np.asarray(result.profiles[keep]), np.asarray(result.outputs[keep])


def check_ids(ids, n: int, *, where: str = "ids") -> np.ndarray:
    """Origin ids as int64 (n, 2) (impact, voxel); -1 everywhere when `ids` is None.

    Raises:
        ValueError: naming `where`, when ids are not integer pairs of shape (n, 2).
    """
    if ids is None:
        return np.full((n, 2), -1, np.int64)
    id_arr = np.asarray(ids)
    if id_arr.shape != (n, 2) or not np.issubdtype(id_arr.dtype, np.integer):
        raise ValueError(
            f"{where}: expected integer (impact, voxel) ids of shape ({n}, 2), "
            f"got {id_arr.dtype} {id_arr.shape}"
        )
    return id_arr.astype(np.int64)
