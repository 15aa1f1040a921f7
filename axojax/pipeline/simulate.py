"""Stage 3: the axon model on every selected profile (DIR/campaign), amplitude variants (DIR/augment)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._files import log
from .config import RunConfig


def _held_rows(sel: dict[str, np.ndarray], key: str) -> np.ndarray:
    return np.stack([np.full_like(sel[key], int(sel["held_out_impact"])), sel[key]], -1)


def part_ids(sel: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """(impact, voxel) ids, (M, 2), of the training set, the learning-curve pool, the worst-case
    set and (runs since the held-out check) every stratified candidate of the held-out impact."""
    parts = {
        "train": np.stack([sel["train_impact"], sel["train_voxel"]], -1),
        "pool": np.stack([sel["pool_impact"], sel["pool_voxel"]], -1),
        "worst": _held_rows(sel, "worst_voxel"),
    }
    if "held_voxel" in sel:
        parts["held"] = _held_rows(sel, "held_voxel")
    return parts


def selected_rows(sel: dict[str, np.ndarray]) -> np.ndarray:
    """Unique (impact, voxel) ids to simulate, in the order of `part_ids`, (M, 2)."""
    ids = np.concatenate(list(part_ids(sel).values()))
    _, first = np.unique(ids, axis=0, return_index=True)
    return ids[np.sort(first)]


def gather_profiles(dataset, ids: np.ndarray) -> np.ndarray:
    """Profiles (M, T) of the (impact, voxel) rows, read one impact at a time."""
    out = np.zeros((ids.shape[0], dataset.shape[2]), np.float32)
    for imp in np.unique(ids[:, 0]):
        rows = np.flatnonzero(ids[:, 0] == imp)
        out[rows] = np.asarray(dataset.read_impact(int(imp)))[ids[rows, 1]]
    return out


def axon_params(config: RunConfig):
    from axojax.axon import AxonParams

    return AxonParams.female() if config.preset == "female" else AxonParams.male()


def stage_simulate(out: Path, config: RunConfig, dataset, sel: dict[str, np.ndarray]):
    """Run (or resume) the axon-model campaign over every selected profile -> DIR/campaign."""
    from axojax.campaign import run_campaign

    ids = selected_rows(sel)
    profiles = gather_profiles(dataset, ids)
    log(f"simulate: axon model ({config.preset}) on {ids.shape[0]} profiles")
    return run_campaign(
        dataset.t_s, profiles, out / "campaign", ids=ids, params=axon_params(config), chunk_size=512
    )


def stage_augment(out: Path, config: RunConfig, result, sel: dict[str, np.ndarray]):
    """Amplitude variants of the training profiles (read from the main campaign `result`) through
    the axon model -> DIR/augment.

    Returns the campaign result (its `ids` are the source profiles' (impact, voxel)), or None
    when `config.augment_copies` is 0."""
    if config.augment_copies == 0:
        return None
    import jax

    from axojax.campaign import run_campaign
    from axojax.sampling import amplitude_variants

    ids = part_ids(sel)["train"]
    profiles = np.asarray(result.profiles[rows_of(result, ids[:, 0], ids[:, 1])], np.float32)
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 2)
    x, source, _ = amplitude_variants(
        profiles, key, copies=config.augment_copies, scale_range=config.augment_scale
    )
    log(
        f"augment: axon model on {x.shape[0]} amplitude variants of the training profiles "
        f"(scale {config.augment_scale[0]}-{config.augment_scale[1]})"
    )
    return run_campaign(
        result.t_s,
        np.asarray(x, np.float32),
        out / "augment",
        ids=ids[np.asarray(source)],
        params=axon_params(config),
        chunk_size=512,
    )


def training_set(parts) -> tuple[np.ndarray, np.ndarray]:
    """Profiles (M, T) and outputs (M, 4) the final surrogate trains on: the adaptive training
    set, then its amplitude variants if any."""
    names = ["train"] + (["augment"] if "augment" in parts else [])
    return (
        np.concatenate([parts[n][0] for n in names]),
        np.concatenate([parts[n][1] for n in names]),
    )


def rows_of(result, impact: np.ndarray, voxel: np.ndarray) -> np.ndarray:
    """Row index in the campaign of each (impact, voxel) pair."""
    lookup = {(int(a), int(b)): i for i, (a, b) in enumerate(result.ids)}
    return np.asarray([lookup[(int(a), int(b))] for a, b in zip(impact, voxel, strict=True)], np.int64)


def split_arrays(
    result, sel: dict[str, np.ndarray], augment=None
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(profiles (M, T), outputs (M, 4), voxel (M,)) of each part of `part_ids`, and "augment"
    (the variants' campaign, voxel of the source) if given; failed solves out."""

    def arrays(res, rows):
        rows = rows[np.asarray(res.usable)[rows]]
        return (
            np.asarray(res.profiles[rows], np.float32),
            np.asarray(res.outputs[rows]),
            np.asarray(res.ids[rows, 1], np.int64),
        )

    out = {name: arrays(result, rows_of(result, ids[:, 0], ids[:, 1])) for name, ids in part_ids(sel).items()}
    if augment is not None:
        out["augment"] = arrays(augment, np.arange(augment.n_profiles))
    return out
