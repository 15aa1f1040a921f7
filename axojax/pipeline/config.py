"""Settings of a run: `RunConfig` (flat, plain values; written to DIR/config.json) and its presets."""

from __future__ import annotations

import dataclasses
from typing import Any

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
