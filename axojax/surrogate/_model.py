"""A 1-D CNN (Flax NNX) from a fiber strain profile to the four axon outputs, with its normalisation.

Pure numerics: no file access, no other axojax stage. The surrogate sees plain arrays,
profiles `(batch, time)` of fiber strain [-] on a uniform grid of step `dt_s` [s], and outputs
`(batch, 4)` in the axon model's order and units:

    peak_mt_strain [-], peak_axolemma_strain [-], tau_failure_pct [%], nf_failure_pct [%].
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Bool, Float

N_OUTPUTS = 4
N_FEATURES = 2  # strain [-] and strain rate [1/s]
OUTPUT_NAMES = ("peak_mt_strain", "peak_axolemma_strain", "tau_failure_pct", "nf_failure_pct")


@dataclasses.dataclass(frozen=True)
class SurrogateConfig:
    """Architecture and input grid of the surrogate (plain Python values; stored in checkpoints).

    Attributes:
        n_time: samples per profile, T.
        dt_s: sampling step of the profiles [s].
        channels: output channels of each Conv + average-pool block.
        kernel_size: temporal kernel of each Conv [samples].
        hidden: width of the dense head.
    """

    n_time: int
    dt_s: float
    channels: tuple[int, ...] = (16, 32, 64)
    kernel_size: int = 5
    hidden: int = 64

    def __post_init__(self):
        if self.n_time < 2:
            raise ValueError(f"n_time must be >= 2, got {self.n_time}")
        if not (self.dt_s > 0.0 and math.isfinite(self.dt_s)):
            raise ValueError(f"dt_s must be a positive time step [s], got {self.dt_s}")
        if len(self.channels) == 0 or min(self.channels) < 1:
            raise ValueError(f"channels must be a non-empty tuple of positive ints, got {self.channels}")
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SurrogateConfig:
        """Inverse of `to_dict`; raises ValueError on unknown or missing keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        if set(d) - names:
            raise ValueError(f"unknown SurrogateConfig keys {sorted(set(d) - names)}")
        d = dict(d)
        if "channels" in d:
            d["channels"] = tuple(d["channels"])
        return cls(**d)


class Stat(nnx.Variable):
    """A non-trainable statistic stored with the model (normalisation, training ranges)."""


def profile_features(profiles: Float[Array, "batch time"], dt_s: float) -> Float[Array, "batch time 2"]:
    """Channels-last input features: strain [-] and its rate dε/dt [1/s] (central differences)."""
    rate = jnp.gradient(profiles, axis=-1) / jnp.asarray(dt_s, profiles.dtype)
    return jnp.stack([profiles, rate], axis=-1)


def profile_ranges(profiles: Float[Array, "batch time"], dt_s: float) -> tuple[Array, Array]:
    """Per-profile peak |strain| [-] and peak |strain rate| [1/s], each `(batch,)`."""
    feats = profile_features(profiles, dt_s)
    return jnp.max(jnp.abs(feats[..., 0]), axis=-1), jnp.max(jnp.abs(feats[..., 1]), axis=-1)


def _pool2(x: Float[Array, "batch time chan"]) -> Float[Array, "batch time2 chan"]:
    """Average pool with window and stride 2 along time (a trailing odd sample is dropped)."""
    t = x.shape[1]
    if t < 2:
        return x
    t2 = t // 2
    # strided adds: the same numbers as reshape + mean at ~25 % less CPU
    return 0.5 * (x[:, 0 : 2 * t2 : 2] + x[:, 1 : 2 * t2 : 2])


def _gelu_pool2(x: Float[Array, "batch time chan"]) -> Float[Array, "batch time2 chan"]:
    """`_pool2(jax.nn.gelu(x))`, the same numbers, with GELU applied to the even and odd samples after
    slicing, so XLA computes it in one pass without storing the activation (memory-bound otherwise)."""
    t = x.shape[1]
    if t < 2:
        return jax.nn.gelu(x)
    t2 = t // 2
    return 0.5 * (jax.nn.gelu(x[:, 0 : 2 * t2 : 2]) + jax.nn.gelu(x[:, 1 : 2 * t2 : 2]))


def conv_taps(
    x: Float[Array, "batch time c_in"], kernel: Float[Array, "k c_in c_out"], bias: Float[Array, " c_out"]
) -> Float[Array, "batch time c_out"]:
    """1-D convolution with SAME zero padding as an explicit sum of k x c_in shifted, broadcast products.

    The numbers of `nnx.Conv(c_in, c_out, (k,), padding="SAME")` (cross-correlation, (k - 1) // 2 zeros
    before, the rest after) up to float32 summation order, out[b, t, o] = bias[o] +
    sum_{i, c} x[b, t + i - (k - 1) // 2, c] kernel[i, c, o]. For few input channels (the surrogate's
    first layer has 2) this is one elementwise fusion that XLA CPU runs ~7x faster than its convolution
    (benchmarks/bench_predict.py); for wide layers the convolution is faster.

    Args:
        x: channels-last input (B, T, C_in).
        kernel: weights (k, C_in, C_out), as `nnx.Conv.kernel`.
        bias: (C_out,).

    Returns:
        (B, T, C_out).
    """
    k, c_in, _ = kernel.shape
    t = x.shape[1]
    lo = (k - 1) // 2
    xp = jnp.pad(x, ((0, 0), (lo, k - 1 - lo), (0, 0)))
    out = jnp.broadcast_to(bias[None, None, :], (*x.shape[:2], bias.shape[0]))
    for i in range(k):
        for c in range(c_in):
            out = out + xp[:, i : i + t, c : c + 1] * kernel[i, c][None, None, :]
    return out


class SurrogateCNN(nnx.Module):
    """1-D CNN: `(batch, time)` fiber strain [-] -> `(batch, 4)` axon outputs (physical units).

    Layers: per block Conv(k, SAME) -> GELU -> AvgPool(2); then global mean and max over time,
    concatenated -> Dense(hidden) -> GELU -> Dense(4). Inputs (strain, rate) and outputs are
    z-scored with statistics fitted on the training set (`set_statistics`), stored as `Stat`
    variables next to the weights, with the training ranges used by the out-of-distribution check.
    Parameters are float32.
    """

    def __init__(self, config: SurrogateConfig, *, rngs: nnx.Rngs):
        self.config = config
        convs = []
        c_in = N_FEATURES
        for c_out in config.channels:
            convs.append(nnx.Conv(c_in, c_out, kernel_size=(config.kernel_size,), padding="SAME", rngs=rngs))
            c_in = c_out
        self.convs = nnx.List(convs)
        self.hidden = nnx.Linear(2 * c_in, config.hidden, rngs=rngs)
        self.head = nnx.Linear(config.hidden, N_OUTPUTS, rngs=rngs)
        f32 = jnp.float32
        self.in_mean = Stat(jnp.zeros((N_FEATURES,), f32))
        self.in_std = Stat(jnp.ones((N_FEATURES,), f32))
        self.out_mean = Stat(jnp.zeros((N_OUTPUTS,), f32))
        self.out_std = Stat(jnp.ones((N_OUTPUTS,), f32))
        # training ranges (out-of-distribution check)
        self.max_abs_strain = Stat(jnp.asarray(jnp.inf, f32))  # [-]
        self.max_abs_rate_per_s = Stat(jnp.asarray(jnp.inf, f32))  # [1/s]

    def set_statistics(self, profiles: Float[Array, "batch time"], targets: Float[Array, "batch 4"]) -> None:
        """Fit the input/output normalisation and training ranges on training data (in place)."""
        profiles = jnp.asarray(profiles, jnp.float32)
        targets = jnp.asarray(targets, jnp.float32)
        feats = profile_features(profiles, self.config.dt_s)
        self.in_mean[...] = jnp.mean(feats, axis=(0, 1))
        self.in_std[...] = jnp.maximum(jnp.std(feats, axis=(0, 1)), 1e-6)
        self.out_mean[...] = jnp.mean(targets, axis=0)
        self.out_std[...] = jnp.maximum(jnp.std(targets, axis=0), 1e-6)
        peak_strain, peak_rate = profile_ranges(profiles, self.config.dt_s)
        self.max_abs_strain[...] = jnp.max(peak_strain)
        self.max_abs_rate_per_s[...] = jnp.max(peak_rate)

    def normalized(self, profiles: Float[Array, "batch time"]) -> Float[Array, "batch 4"]:
        """Outputs in z-scored units (the training loss space)."""
        x = profile_features(jnp.asarray(profiles, jnp.float32), self.config.dt_s)
        x = (x - self.in_mean[...][None, None, :]) / self.in_std[...][None, None, :]
        for conv in self.convs:
            x = _pool2(jax.nn.gelu(conv(x)))
        x = jnp.concatenate([jnp.mean(x, axis=1), jnp.max(x, axis=1)], axis=-1)
        return self.head(jax.nn.gelu(self.hidden(x)))

    def __call__(self, profiles: Float[Array, "batch time"]) -> Float[Array, "batch 4"]:
        """Outputs in physical units (see module docstring); the failure percentages are clipped to
        [0, 100] (the regression can undershoot 0 where nothing fails; training uses `normalized`)."""
        return self._physical(self.normalized(profiles))

    def infer(self, profiles: Float[Array, "batch time"]) -> Float[Array, "batch 4"]:
        """`__call__` for inference on the CPU: the same outputs to float32 rounding (~1e-6 relative),
        with the first convolution (2 input channels) as `conv_taps` instead of `nnx.Conv`, fused with the
        features and their normalisation; the wider layers stay `nnx.Conv`. `axojax.surrogate.predict`
        and the whole-brain maps use it; training uses `normalized`.

        Args:
            profiles: fiber strain [-], (B, T) with T = `config.n_time`.

        Returns:
            (B, 4) outputs in physical units, as `__call__`.
        """
        x = profile_features(jnp.asarray(profiles, jnp.float32), self.config.dt_s)
        x = (x - self.in_mean[...][None, None, :]) / self.in_std[...][None, None, :]
        first, *rest = self.convs
        bias = first.bias[...] if first.bias is not None else jnp.zeros(first.out_features, jnp.float32)
        x = _gelu_pool2(conv_taps(x, first.kernel[...], bias))
        for conv in rest:
            x = _gelu_pool2(conv(x))
        x = jnp.concatenate([jnp.mean(x, axis=1), jnp.max(x, axis=1)], axis=-1)
        return self._physical(self.head(jax.nn.gelu(self.hidden(x))))

    def _physical(self, z: Float[Array, "batch 4"]) -> Float[Array, "batch 4"]:
        y = z * self.out_std[...][None, :] + self.out_mean[...][None, :]
        return jnp.concatenate([y[:, :2], jnp.clip(y[:, 2:], 0.0, 100.0)], axis=-1)

    def out_of_distribution(
        self, profiles: Float[Array, "batch time"], margin: float = 0.1
    ) -> Bool[Array, " batch"]:
        """True where peak |strain| or peak |rate| exceeds the training maximum by more than `margin`."""
        peak_strain, peak_rate = profile_ranges(jnp.asarray(profiles, jnp.float32), self.config.dt_s)
        scale = jnp.asarray(1.0 + margin, jnp.float32)
        return (peak_strain > scale * self.max_abs_strain[...]) | (
            peak_rate > scale * self.max_abs_rate_per_s[...]
        )
