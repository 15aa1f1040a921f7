"""The end-to-end pipeline behind `axojax run`, one resumable function per stage.

Output folder layout (every stage reads what the previous one wrote, and skips work already done):

    DIR/config.json                 the `RunConfig` of the run (a rerun with another config is refused)
    DIR/profiles/                   fiber strain store (`axojax.fiberstrain.ProfileDataset`)
    DIR/sampling/selection.npz      adaptive training selection (+ learning-curve pool), worst-case set
    DIR/sampling/coverage.json      coverage of the kept set vs the candidate pool
    DIR/campaign/                   axon model outputs of every selected profile (`axojax.campaign`)
    DIR/augment/                    axon model outputs of the training profiles' amplitude variants
    DIR/sampling/worst_case.npz     t_s, profiles, outputs, voxel of the worst-case set
    DIR/surrogate/model/            orbax checkpoint of the trained surrogate
    DIR/surrogate/learning_curve.json, validation.json
    DIR/maps/*.nii.gz               whole-white-matter maps of the held-out impact
    DIR/figures/*.png               learning curve, predicted vs simulated, map slices, coverage
    DIR/metrics.json                everything measured, with timings

The stages import every pipeline stage; nothing imports this module but the CLI.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

PRESETS = ("default", "paper", "tiny")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Settings of one `axojax run` (plain values; written to DIR/config.json).

    Attributes:
        n_impacts: training impacts, drawn over the full synthetic ranges (peak |ω| 2-40 rad/s,
            peak |α| 300-8,000 rad/s^2, 5-20 ms); one more impact is held out for the
            worst-case set and the maps.
        held_out_peak_ang_vel_rad_s: peak |ω| range [rad/s] of the held-out impact: the severe
            part of the training range, so that the worst-case set exercises every output
            (neurofilaments fail only above ~14 % fiber strain, which milder impacts never
            reach) without leaving the training ranges.
        seed: PRNG seed of the synthetic impacts, the training and the folds.
        resolution_mm: brain grid [mm] (2 = the study's ~92,500 voxels).
        n_train: training profiles of the final surrogate (adaptive sampling target).
        lc_sizes: training-set sizes of the cross-validated learning curve.
        lc_folds: folds of the learning curve's cross-validation.
        n_worst: size of the worst-case test set.
        measure: similarity measure of adaptive sampling ("nrmse" or "xcorr").
        tail_fraction: share of n_train kept from the severity tail (candidates with peak
            |strain| at or above the pool's 99th percentile); see
            `axojax.sampling.select_from_dataset`.
        augment_copies: amplitude variants a·ε(t) per training profile, a ~ U(augment_scale),
            simulated and added to the final surrogate's training set (0: none); see
            `axojax.sampling.amplitude_variants`. The learning curve uses the adaptive samples
            alone.
        augment_scale: (low, high) of the variants' scale factor [-].
        preset: axon parameter preset ("male" or "female").
        epochs, patience, batch_size, learning_rate: surrogate training (see
            `axojax.surrogate.TrainConfig`).
        channels: channels of the CNN blocks.
    """

    n_impacts: int = 20
    held_out_peak_ang_vel_rad_s: tuple[float, float] = (20.0, 30.0)
    seed: int = 0
    resolution_mm: float = 2.0
    n_train: int = 2000
    lc_sizes: tuple[int, ...] = (250, 500, 1000, 2000)
    lc_folds: int = 3
    n_worst: int = 75
    measure: str = "nrmse"
    tail_fraction: float = 0.15
    augment_copies: int = 4
    augment_scale: tuple[float, float] = (0.75, 1.25)
    preset: str = "male"
    epochs: int = 300
    patience: int = 80
    batch_size: int = 64
    learning_rate: float = 1e-3
    channels: tuple[int, ...] = (16, 32, 64)

    @classmethod
    def preset_config(cls, name: str, **overrides: Any) -> RunConfig:
        """`default` (about 10 min on a 2-core CPU), `paper` (the study's scale: 45 + 1 impacts,
        N = 2,000, learning curve to 4,000 with 5 folds, 75 worst-case) or `tiny` (tests)."""
        if name == "default":
            base = cls()
        elif name == "paper":
            base = cls(n_impacts=45, lc_sizes=(250, 500, 1000, 2000, 4000), lc_folds=5)
        elif name == "tiny":
            base = cls(
                n_impacts=3,
                resolution_mm=6.0,
                n_train=60,
                lc_sizes=(30, 60),
                lc_folds=2,
                n_worst=10,
                epochs=6,
                patience=6,
                batch_size=16,
                channels=(4, 8),
            )
        else:
            raise ValueError(f"unknown preset {name!r}: expected one of {PRESETS}")
        return dataclasses.replace(base, **overrides)

    def __post_init__(self):
        if self.n_impacts < 1:
            raise ValueError(f"n_impacts must be >= 1, got {self.n_impacts}")
        if self.measure not in ("nrmse", "xcorr"):
            raise ValueError(f"measure must be 'nrmse' or 'xcorr', got {self.measure!r}")
        if self.preset not in ("male", "female"):
            raise ValueError(f"preset must be 'male' or 'female', got {self.preset!r}")
        object.__setattr__(self, "lc_sizes", tuple(sorted(int(s) for s in self.lc_sizes)))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        lo, hi = (float(v) for v in self.held_out_peak_ang_vel_rad_s)
        if not 0.0 < lo <= hi:
            raise ValueError(
                f"held_out_peak_ang_vel_rad_s must be (min, max) with 0 < min <= max, got {(lo, hi)}"
            )
        object.__setattr__(self, "held_out_peak_ang_vel_rad_s", (lo, hi))
        if not 0.0 <= self.tail_fraction < 1.0:
            raise ValueError(f"tail_fraction must be in [0, 1), got {self.tail_fraction}")
        if int(self.augment_copies) < 0:
            raise ValueError(f"augment_copies must be >= 0, got {self.augment_copies}")
        lo, hi = (float(v) for v in self.augment_scale)
        if not 0.0 < lo <= hi:
            raise ValueError(f"augment_scale must be (low, high) with 0 < low <= high, got {(lo, hi)}")
        object.__setattr__(self, "augment_copies", int(self.augment_copies))
        object.__setattr__(self, "augment_scale", (lo, hi))

    @property
    def n_pool(self) -> int:
        """Adaptive-sampling pool of the learning curve: the largest of n_train and lc_sizes."""
        return max(self.n_train, *self.lc_sizes)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["lc_sizes"] = list(self.lc_sizes)
        d["channels"] = list(self.channels)
        d["held_out_peak_ang_vel_rad_s"] = list(self.held_out_peak_ang_vel_rad_s)
        d["augment_scale"] = list(self.augment_scale)
        return d


# --- small helpers -------------------------------------------------------------------------------


def log(msg: str) -> None:
    """One progress line on stderr."""
    print(f"axojax: {msg}", file=sys.stderr, flush=True)


def atomic_write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=_json_default))
    os.replace(tmp, path)


def atomic_save_npz(path: Path, **arrays: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x)}")


def _timed(timings: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    out = fn()
    timings[name] = round(time.perf_counter() - start, 3)
    return out


def check_config(out: Path, config: RunConfig) -> None:
    """Write DIR/config.json, or refuse a folder holding a run with another config."""
    path = out / "config.json"
    new = config.to_dict()
    if path.exists():
        old = json.loads(path.read_text())
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if diff:
            raise ValueError(
                f"{out}: holds a run with other settings ({', '.join(diff)}); "
                "use a new --out folder or the same settings to resume"
            )
        return
    atomic_write_json(path, new)


# --- stage 1: impacts -> fiber strain profiles ---------------------------------------------------


def synthetic_impact_list(config: RunConfig) -> dict[str, Any]:
    """The run's synthetic impacts by name: `n_impacts` training impacts, then the held-out one
    (drawn with its own key, peak |ω| in `config.held_out_peak_ang_vel_rad_s`)."""
    import jax

    from ..kinematics import Impact, synthetic_impacts

    key = jax.random.PRNGKey(config.seed)
    batches = [
        (synthetic_impacts(key, config.n_impacts), "train_{:03d}"),
        (
            synthetic_impacts(
                jax.random.fold_in(key, 1),
                1,
                peak_ang_vel_rad_s=config.held_out_peak_ang_vel_rad_s,
            ),
            "held_out_{:03d}",
        ),
    ]
    impacts = {}
    for batch, pattern in batches:
        for i in range(batch.t_s.shape[0]):
            name = pattern.format(len(impacts))
            impacts[name] = Impact(
                t_s=batch.t_s[i],
                ang_vel_rad_s=batch.ang_vel_rad_s[i],
                ang_acc_rad_s2=batch.ang_acc_rad_s2[i],
                name=name,
            )
    return impacts


def impact_metadata(impact) -> dict[str, float]:
    """Peak |ω| [rad/s], peak |α| [rad/s^2] and the dominant rotation axis of an impact."""
    w = np.asarray(impact.ang_vel_rad_s, np.float64)
    a = np.asarray(impact.ang_acc_rad_s2, np.float64)
    i = int(np.argmax(np.linalg.norm(w, axis=-1)))
    axis = w[i] / max(np.linalg.norm(w[i]), 1e-30)
    return {
        "peak_ang_vel_rad_s": float(np.linalg.norm(w, axis=-1).max()),
        "peak_ang_acc_rad_s2": float(np.linalg.norm(a, axis=-1).max()),
        "axis_head": [float(v) for v in axis],
    }


def load_run_brain(config: RunConfig):
    from ..brain import default_brain

    return default_brain(config.resolution_mm)


def stage_profiles(out: Path, config: RunConfig, brain=None):
    """Fiber strain profiles of every impact on every white-matter voxel, into DIR/profiles."""
    from ..fiberstrain import build_profiles
    from ..headmodel import ReducedHeadModel, strain_history

    brain = load_run_brain(config) if brain is None else brain
    impacts = synthetic_impact_list(config)
    model = ReducedHeadModel()

    def strain_fn(impact, coords_mm):
        return strain_history(model, impact.t_s, impact.ang_acc_rad_s2, coords_mm)

    t_s = np.asarray(next(iter(impacts.values())).t_s, np.float64)
    meta = {name: impact_metadata(imp) for name, imp in impacts.items()}
    log(f"profiles: {len(impacts)} impacts x {brain.n_voxels} voxels x {t_s.size} samples")
    return build_profiles(strain_fn, impacts, brain, out / "profiles", t_s=t_s, metadata=meta)


# --- stage 2: stratified + adaptive sampling -----------------------------------------------------


def stage_sample(out: Path, config: RunConfig, dataset) -> dict[str, Any]:
    """Adaptive training selection (and learning-curve pool), worst-case set -> DIR/sampling."""
    from ..sampling import plot_coverage

    path = out / "sampling" / "selection.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    names = list(dataset.impact_names)
    train, held_out = names[:-1], names[-1]
    log(f"sampling: N = {config.n_train} of the stratified candidates of {len(train)} impacts")
    res = _select(dataset, train, held_out, config.n_train, config)
    if res.n_tail:
        log(
            f"sampling: {res.n_tail} of them from the severity tail "
            f"(peak strain >= {100 * res.tail_peak_strain:.1f} %)"
        )
    arrays = {
        "train_impact": np.asarray(res.selection.impact, np.int64),
        "train_voxel": np.asarray(res.selection.voxel, np.int64),
        "train_threshold": np.float64(res.selection.threshold),
        "train_n_tail": np.int64(res.n_tail),
        "tail_peak_strain": np.float64(np.nan if res.tail_peak_strain is None else res.tail_peak_strain),
        "worst_voxel": np.asarray(res.worst_case.voxel, np.int64),
        "worst_similarity": np.asarray(res.worst_case.max_similarity, np.float64),
        "held_out_impact": np.int64(len(names) - 1),
        "n_candidates_per_impact": np.int64(res.n_candidates_per_impact),
        "held_voxel": np.asarray(res.held_out_voxels, np.int64),
    }
    if config.n_pool > config.n_train:
        log(f"sampling: learning-curve pool N = {config.n_pool}")
        pool = _select(dataset, train, held_out, config.n_pool, config)
        arrays["pool_impact"] = np.asarray(pool.selection.impact, np.int64)
        arrays["pool_voxel"] = np.asarray(pool.selection.voxel, np.int64)
        arrays["pool_threshold"] = np.float64(pool.selection.threshold)
    else:
        arrays["pool_impact"], arrays["pool_voxel"] = arrays["train_impact"], arrays["train_voxel"]
        arrays["pool_threshold"] = arrays["train_threshold"]
    cov = res.coverage
    atomic_write_json(out / "sampling" / "coverage.json", _coverage_dict(cov))
    (out / "figures").mkdir(parents=True, exist_ok=True)
    try:
        plot_coverage(cov, out / "figures" / "sampling_coverage.png")
    except ImportError:
        log("sampling: matplotlib not installed, coverage figure skipped")
    atomic_save_npz(path, **arrays)
    return arrays


def _select(dataset, train, held_out, n: int, config: RunConfig):
    """Threshold search to about n kept (±1 %, at least ±2); if the greedy count jumps over that
    window, the exact greedy stopped at n kept."""
    from ..sampling import select_from_dataset

    common = dict(n=n, n_worst=config.n_worst, measure=config.measure, tail_fraction=config.tail_fraction)
    try:
        return select_from_dataset(dataset, train, held_out, rtol=max(0.01, 2.0 / n), **common)
    except ValueError as err:
        if "jumps over the window" not in str(err):
            raise
        log(f"sampling: {err}; taking the greedy stopped at exactly {n} kept")
        return select_from_dataset(dataset, train, held_out, exact=True, **common)


def _coverage_dict(cov) -> dict[str, Any]:
    return json.loads(json.dumps(cov.as_dict(), default=_json_default))


# --- stage 3: the axon model on every selected profile -------------------------------------------


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
    from ..axon import AxonParams

    return AxonParams.female() if config.preset == "female" else AxonParams.male()


def stage_simulate(out: Path, config: RunConfig, dataset, sel: dict[str, np.ndarray]):
    """Run (or resume) the axon-model campaign over every selected profile -> DIR/campaign."""
    from ..campaign import run_campaign

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

    from ..campaign import run_campaign
    from ..sampling import amplitude_variants

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


# --- stage 4: surrogate: learning curve, final model, worst-case validation ----------------------


def train_settings(config: RunConfig, n_time: int, dt_s: float):
    from ..surrogate import SurrogateConfig, TrainConfig

    arch = SurrogateConfig(n_time=n_time, dt_s=dt_s, channels=config.channels)
    train = TrainConfig(
        epochs=config.epochs,
        patience=config.patience,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
    )
    return arch, train


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, Any]]:
    """R², NRMSE [%] (RMSE over the range of the true values) and RMSE per output name.

    An output whose true values are all equal (e.g. no NF failure anywhere in the set) has no
    R² or NRMSE: both are reported as None with `constant_truth` True, and RMSE still holds.
    """
    from ..surrogate import OUTPUT_NAMES, nrmse_pct, r2_score

    y, p = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    r2 = np.asarray(r2_score(y, p))
    nr = np.asarray(nrmse_pct(y, p))
    rmse = np.sqrt(np.mean((y - p) ** 2, axis=0))
    out = {}
    for i, name in enumerate(OUTPUT_NAMES):
        const = bool(np.ptp(y[:, i]) == 0.0)
        out[name] = {
            "r2": None if const else float(r2[i]),
            "nrmse_pct": None if const else float(nr[i]),
            "rmse": float(rmse[i]),
            "constant_truth": const,
        }
    return out


def stage_learning_curve(out: Path, config: RunConfig, pool, dt_s: float) -> dict[str, Any]:
    """k-fold learning curve over `lc_sizes` on the sampled pool -> learning_curve.json + figure."""
    import jax

    from ..surrogate import OUTPUT_NAMES, learning_curve

    path = out / "surrogate" / "learning_curve.json"
    if path.exists():
        return json.loads(path.read_text())
    x, y = pool[:2]
    sizes = sorted({min(s, x.shape[0]) for s in config.lc_sizes})  # the largest: the whole pool
    arch, train = train_settings(config, x.shape[1], dt_s)
    log(f"train: {config.lc_folds}-fold learning curve over N = {sizes}")
    start = time.perf_counter()
    lc = learning_curve(
        x,
        y,
        dt_s=dt_s,
        sizes=sizes,
        key=jax.random.PRNGKey(config.seed + 1),
        folds=config.lc_folds,
        config=arch,
        train=train,
    )
    report = {
        "sizes": [int(s) for s in lc.sizes],
        "folds": config.lc_folds,
        "threshold_r2": lc.threshold,
        "min_size_r2_above_threshold": lc.min_size,
        "r2_mean": {n: lc.r2_mean[:, i].tolist() for i, n in enumerate(OUTPUT_NAMES)},
        "nrmse_pct_mean": {n: lc.nrmse_mean[:, i].tolist() for i, n in enumerate(OUTPUT_NAMES)},
        "r2_folds": lc.r2.tolist(),
        "nrmse_pct_folds": lc.nrmse_pct.tolist(),
        "seconds": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(path, report)
    return report


def stage_fit(out: Path, config: RunConfig, train_set, dt_s: float, n_variants: int = 0):
    """Train the final surrogate on `train_set` = (profiles, outputs) (the adaptive training set
    and its last `n_variants` rows of amplitude variants) -> DIR/surrogate/model."""
    import jax

    from ..surrogate import fit, load_surrogate, save_surrogate

    ckpt = out / "surrogate" / "model"
    x, y = train_set
    arch, train = train_settings(config, x.shape[1], dt_s)
    if ckpt.exists():
        model, _ = load_surrogate(ckpt, config=arch)
        return model, json.loads((out / "surrogate" / "fit.json").read_text())
    log(f"train: final surrogate on N = {x.shape[0]} profiles ({n_variants} amplitude variants)")
    start = time.perf_counter()
    model, hist = fit(x, y, dt_s=dt_s, key=jax.random.PRNGKey(config.seed + 2), config=arch, train=train)
    seconds = time.perf_counter() - start
    params = axon_params(config)
    meta = {
        "axon_preset": config.preset,
        "axon_params": {
            f.name: float(np.asarray(getattr(params, f.name)))
            for f in dataclasses.fields(params)
            if np.ndim(getattr(params, f.name)) == 0
        },
        "n_train": int(x.shape[0]),
        "seed": config.seed,
        "resolution_mm": config.resolution_mm,
    }
    info = {
        "n_train": int(x.shape[0]),
        "n_amplitude_variants": n_variants,
        "epochs_run": int(hist.train_loss.size),
        "best_epoch": int(hist.best_epoch),
        "best_val_loss": float(hist.val_loss[hist.best_epoch]),
        "seconds": round(seconds, 1),
    }
    atomic_write_json(out / "surrogate" / "fit.json", info)
    save_surrogate(ckpt, model, meta)
    return model, info


def stage_validate(out: Path, model, parts, t_s: np.ndarray) -> dict[str, Any]:
    """Independent validation on the held-out impact, with the ridge baseline fitted on the same
    training set (`training_set(parts)`): the worst-case set, and (if simulated) every stratified
    candidate of the impact.

    Returns {"n", "surrogate", "ridge_baseline"} of the worst-case set, plus "held_out_impact"
    with the same keys for all candidates; writes DIR/sampling/{worst_case,held_out}.npz."""
    from ..surrogate import fit_ridge, predict

    ridge = fit_ridge(*training_set(parts), dt_s=float(t_s[1] - t_s[0]))
    report: dict[str, Any] = {}
    for name, file in (("worst", "worst_case.npz"), ("held", "held_out.npz")):
        if name not in parts:
            continue
        x, y, voxel = parts[name]
        pred = np.asarray(predict(model, x, check=False))
        atomic_save_npz(out / "sampling" / file, t_s=t_s, profiles=x, outputs=y, predicted=pred, voxel=voxel)
        res = {
            "n": int(x.shape[0]),
            "surrogate": scores(y, pred),
            "ridge_baseline": scores(y, np.asarray(ridge(x))),
        }
        if name == "worst":
            report.update(res)
        else:
            report["held_out_impact"] = res
    return report


# --- stage 5: whole-white-matter maps ------------------------------------------------------------


def stage_maps(out: Path, model, impact, brain, *, name: str | None = None) -> dict[str, Any]:
    """Surrogate maps of one impact on every voxel -> DIR/maps/*.nii.gz, summary, slice figure."""
    from ..headmodel import ReducedHeadModel
    from ..wholebrain import summary, whole_brain, write_maps
    from ..wholebrain.report import plot_slices

    name = impact.name if name is None else name
    log(f"maps: impact {name!r} on {brain.n_voxels} voxels")
    head = ReducedHeadModel()
    res = whole_brain(model, head, impact, brain)
    warm = whole_brain(model, head, impact, brain, warn=False)  # compiled: the timing a user sees
    paths = write_maps(out / "maps", brain, res.values)
    report = {
        "impact": name,
        "files": {k: str(v) for k, v in paths.items()},
        "first_call": {"profiles_s": res.profiles_s, "inference_s": res.inference_s},
        "warm": {"profiles_s": warm.profiles_s, "inference_s": warm.inference_s},
        "summary": summary(res.values, brain, ood=res.ood),
    }
    try:
        plot_slices(res.values, brain, out / "figures" / "map_slices.png", title=f"impact {name}")
    except ImportError:
        log("maps: matplotlib not installed, slice figure skipped")
    return report


# --- the whole run -------------------------------------------------------------------------------


def _figures(out: Path, lc: dict[str, Any], sampling_dir: Path) -> None:
    from ..surrogate.report import plot_learning_curve, plot_predicted_vs_simulated

    try:
        plot_learning_curve(
            lc["sizes"], lc["r2_mean"], lc["nrmse_pct_mean"], out / "figures" / "learning_curve.png"
        )
        for file, fig in (("worst_case", "worst_case_scatter"), ("held_out", "held_out_scatter")):
            if (sampling_dir / f"{file}.npz").exists():
                with np.load(sampling_dir / f"{file}.npz") as z:
                    plot_predicted_vs_simulated(z["outputs"], z["predicted"], out / "figures" / f"{fig}.png")
    except ImportError:
        log("figures: matplotlib not installed, skipped")


STAGES = ("profiles", "sample", "simulate", "train", "maps")


def run_pipeline(out: str | os.PathLike, config: RunConfig, until: str = "maps") -> dict[str, Any]:
    """Synthetic impacts -> profiles -> sampling -> axon campaign -> surrogate -> maps, resumable.

    Args:
        out: output folder (see the module docstring).
        config: the run's settings.
        until: last stage to run, one of `STAGES`.

    Returns the metrics dict; the full run also writes it to DIR/metrics.json.
    """
    if until not in STAGES:
        raise ValueError(f"until must be one of {STAGES}, got {until!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_config(out, config)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    brain = _timed(timings, "brain_s", lambda: load_run_brain(config))
    dataset = _timed(timings, "profiles_s", lambda: stage_profiles(out, config, brain))
    if until == "profiles":
        return {"profiles": str(dataset.store_dir), "shape": list(dataset.shape), "timings": timings}
    sel = _timed(timings, "sampling_s", lambda: stage_sample(out, config, dataset))
    if until == "sample":
        return {"n_train_selected": int(sel["train_voxel"].size), "timings": timings}
    result = _timed(timings, "simulate_s", lambda: stage_simulate(out, config, dataset, sel))
    augment = _timed(timings, "augment_s", lambda: stage_augment(out, config, result, sel))
    if until == "simulate":
        return {
            "n_simulated": result.n_profiles,
            "n_failed": int((~result.usable).sum()),
            "n_amplitude_variants": 0 if augment is None else augment.n_profiles,
            "timings": timings,
        }
    parts = split_arrays(result, sel, augment)
    t_s = np.asarray(dataset.t_s, np.float64)
    dt_s = float(t_s[1] - t_s[0])
    lc = _timed(timings, "learning_curve_s", lambda: stage_learning_curve(out, config, parts["pool"], dt_s))
    n_variants = parts["augment"][0].shape[0] if "augment" in parts else 0
    model, fit_info = _timed(
        timings, "train_s", lambda: stage_fit(out, config, training_set(parts), dt_s, n_variants)
    )
    held = int(sel["held_out_impact"])
    validation = stage_validate(out, model, parts, t_s)
    atomic_write_json(out / "surrogate" / "validation.json", validation)
    _figures(out, lc, out / "sampling")
    if until == "train":
        return {"learning_curve": lc, "training": fit_info, "worst_case_validation": validation}
    impacts = synthetic_impact_list(config)
    held_name = list(impacts)[held]
    maps = _timed(timings, "maps_s", lambda: stage_maps(out, model, impacts[held_name], brain))
    timings["total_s"] = round(time.perf_counter() - start, 1)
    metrics = {
        "config": config.to_dict(),
        "brain": {
            "n_voxels": brain.n_voxels,
            "n_cubes": brain.n_cubes,
            "resolution_mm": config.resolution_mm,
        },
        "impacts": {"n_train": config.n_impacts, "held_out": held_name},
        "sampling": {
            "n_candidates_per_impact": int(sel["n_candidates_per_impact"]),
            "n_train_selected": int(sel["train_voxel"].size),
            "train_threshold": float(sel["train_threshold"]),
            "n_train_from_tail": int(sel["train_n_tail"]) if "train_n_tail" in sel else 0,
            "tail_peak_strain": (
                float(sel["tail_peak_strain"])
                if "tail_peak_strain" in sel and np.isfinite(sel["tail_peak_strain"])
                else None
            ),
            "n_pool_selected": int(sel["pool_voxel"].size),
            "pool_threshold": float(sel["pool_threshold"]),
            "n_worst": int(sel["worst_voxel"].size),
            "coverage": json.loads((out / "sampling" / "coverage.json").read_text()),
        },
        "simulation": {
            "n_profiles": result.n_profiles,
            "n_failed": int((~result.usable).sum()),
            "axon_preset": config.preset,
            "n_amplitude_variants": 0 if augment is None else augment.n_profiles,
            "n_amplitude_variants_failed": 0 if augment is None else int((~augment.usable).sum()),
        },
        "learning_curve": {k: v for k, v in lc.items() if not k.endswith("_folds")},
        "training": fit_info,
        "worst_case_validation": validation,
        "maps": maps,
        "timings": timings,
    }
    atomic_write_json(out / "metrics.json", metrics)
    return metrics
