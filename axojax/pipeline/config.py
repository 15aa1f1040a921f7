"""Settings of a run: `RunConfig` (flat, plain values; written to DIR/config.json), its presets, and
the study file (TOML) that sets them: `load_config`, `template_toml`.

A study file has one table per part of the study; each key sets one `RunConfig` field (`SECTIONS`):

    preset = "default"            # the scale whose values the keys below override: default|paper|tiny
    seed = 0
    [impacts]     source, n_synthetic, held_out, held_out_peak_ang_vel_rad_s, time_unit, ang_vel_unit,
                  ang_acc_unit, lin_acc_unit
    [kinematics]  dt_ms, window_ms ("auto" or ms), filter, cutoff_hz, max_damage_loss_pct
    [tissue]      model (reduced|fe|import), element_size_mm, strain, fallback
    [brain]       mask, threshold, resolution_mm
    [fibers]      source (synthetic|v1|tensor|tractogram|dwi), path, bval, bvec, convention, resample
    [axon]        preset (male|female)
    [sampling]    n_train, lc_sizes, lc_folds, n_worst, measure, tail_fraction, augment_copies,
                  augment_scale
    [surrogate]   epochs, patience, batch_size, learning_rate, channels
    [maps]        impacts (held_out|all)

Relative paths are taken from the study file's folder. `template_toml()` is the commented file
`axojax init` writes; it reads back as the default config.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import tomllib
from pathlib import Path
from typing import Any

from axojax.brain import DEFAULT_THRESHOLD_FRACTION
from axojax.kinematics import FILTERS, impact_files, unit_factor

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
        impacts: "synthetic" (the drawn impacts above), or measured kinematics: a .mat (struct
            array `impact`, several impacts), .csv or .npz file, a folder of them, or a glob
            (`axojax.kinematics.load_impact_set`).
        held_out: the impact held out for validation and maps: "auto" (synthetic: drawn with its
            own key in `held_out_peak_ang_vel_rad_s`; measured: "most_severe"), "most_severe"
            (largest peak |α|), "random" (drawn with the run's key) or an impact's name.
        time_unit, ang_vel_unit, ang_acc_unit, lin_acc_unit: units of measured files that do not
            name them (`axojax.kinematics.UNITS`; a CSV header's unit wins).
        dt_ms: model time step [ms].
        window_ms: model window [ms]; 0 ("auto" in a study file): synthetic impacts 100 ms,
            measured ones the shortest multiple of 10 ms from 100 ms up in which no impact loses
            more than `max_damage_loss_pct` of its full-record DAMAGE.
        kinematics_filter: anti-aliasing filter of measured records sampled faster than dt_ms
            ("cfc180", "butterworth", "none"; `axojax.kinematics.resample_record`).
        cutoff_hz: Butterworth cut-off [Hz]; 0: 0.4 / dt.
        max_damage_loss_pct: DAMAGE a window may lose against the full record [%] before the run
            warns (fixed `window_ms`) or grows it (auto).
        tissue_model: tissue strain per impact: "reduced" (`axojax.headmodel.ReducedHeadModel`),
            "fe" (`axojax.headmodel.FEHeadModel`) or "import" (one strain file per impact).
        element_size_mm: element size of the FE head model [mm] (6 mm for a run on a CPU; `FEHeadModel()`
            itself defaults to 4 mm).
        fe_surface: "fe": the brain's surface against the skull: "smooth" (its boundary nodes on the
            smooth skull surface the brain slides along) or "staircase" (the voxel mesh as built); see
            `FEHeadModel(surface=)`.
        inverted_elements: "fe": what a solve in which an element inverts does: "exclude" (the solve
            finishes; the voxels in an inverted element are flagged in the profile store, left out of
            sampling and the worst-case set and marked in the maps) or "stop" (the run stops there).
        strain_files: "import": file pattern with `{name}` (the impact's name), `{stem}` (its
            file's stem) and `{index}` (its index in the file), e.g. "strain/{name}.nii.gz".
        strain_fallback: "import": what an impact without a strain file gets ("none": an error,
            "reduced": the reduced head model).
        brain_mask: white-matter NIfTI (probability or labels); "": the embedded MNI brain.
        mask_threshold: white matter where the map >= threshold x its maximum.
        fibers: fiber directions: "synthetic", "v1" (FSL V1 NIfTI), "tensor" (6-component tensor
            NIfTI), "tractogram" (.trk/.tck), "dwi" (DWI NIfTI + bval + bvec).
        fibers_path, fibers_bval, fibers_bvec: their files.
        fibers_convention: vector frame of a V1 / tensor image ("fsl", "voxel", "world").
        fibers_resample: a fiber image on another grid than the mask is sampled at the nearest
            voxel (otherwise refused).
        map_impacts: maps of the held-out impact ("held_out") or of every impact ("all").
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
    impacts: str = "synthetic"
    held_out: str = "auto"
    time_unit: str = "s"
    ang_vel_unit: str = "rad/s"
    ang_acc_unit: str = "rad/s2"
    lin_acc_unit: str = "m/s2"
    dt_ms: float = 1.0
    window_ms: float = 0.0
    kinematics_filter: str = "cfc180"
    cutoff_hz: float = 0.0
    max_damage_loss_pct: float = 1.0
    tissue_model: str = "fe"
    element_size_mm: float = 6.0
    fe_surface: str = "smooth"
    inverted_elements: str = "exclude"
    strain_files: str = ""
    strain_fallback: str = "none"
    brain_mask: str = ""
    mask_threshold: float = DEFAULT_THRESHOLD_FRACTION
    fibers: str = "synthetic"
    fibers_path: str = ""
    fibers_bval: str = ""
    fibers_bvec: str = ""
    fibers_convention: str = "fsl"
    fibers_resample: bool = False
    map_impacts: str = "held_out"

    @classmethod
    def preset_config(cls, name: str, **overrides: Any) -> RunConfig:
        """`default` (about 16 min on a 2-core CPU), `paper` (the study's scale: 45 + 1 impacts,
        N = 2,000, learning curve to 4,000 with 5 folds, 75 worst-case) or `tiny` (tests)."""
        if name == "default":
            base = cls()
        elif name == "paper":
            base = cls(n_impacts=45, lc_sizes=(250, 500, 1000, 2000, 4000), lc_folds=5)
        elif name == "tiny":
            base = cls(
                tissue_model="reduced",  # seconds, not minutes: the tests' runs
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
        choices = {
            "tissue_model": TISSUE_MODELS,
            "fibers": FIBER_SOURCES,
            "kinematics_filter": FILTERS,
            "map_impacts": ("held_out", "all"),
            "strain_fallback": ("none", "reduced"),
            "inverted_elements": ("exclude", "stop"),
            "fe_surface": ("smooth", "staircase"),
            "fibers_convention": ("fsl", "voxel", "world"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name, field in (
            ("time_unit", "t"),
            ("ang_vel_unit", "ang_vel"),
            ("ang_acc_unit", "ang_acc"),
            ("lin_acc_unit", "lin_acc_CG"),
        ):
            unit_factor(field, getattr(self, name), name)
        if self.impacts == "synthetic" and self.held_out != "auto":
            raise ValueError(f"held_out must be 'auto' for synthetic impacts, got {self.held_out!r}")
        if not self.dt_ms > 0 or self.window_ms < 0:
            raise ValueError(f"dt_ms must be > 0 and window_ms >= 0, got {self.dt_ms}, {self.window_ms}")
        if self.window_ms and abs(round(self.window_ms / self.dt_ms) * self.dt_ms - self.window_ms) > 1e-9:
            raise ValueError(f"window_ms={self.window_ms} must be a multiple of dt_ms={self.dt_ms}")
        if self.tissue_model == "import" and not self.strain_files:
            raise ValueError("tissue model 'import' needs strain_files (e.g. 'strain/{name}.npz')")
        if self.fibers != "synthetic" and not self.fibers_path:
            raise ValueError(f"fibers {self.fibers!r} needs fibers_path")
        if self.fibers == "dwi" and not (self.fibers_bval and self.fibers_bvec):
            raise ValueError("fibers 'dwi' needs fibers_bval and fibers_bvec")
        if not 0.0 < self.mask_threshold <= 1.0:
            raise ValueError(f"mask_threshold must lie in (0, 1], got {self.mask_threshold}")
        if self.resolution_mm < 0 or (self.resolution_mm == 0 and not self.brain_mask):
            raise ValueError(
                f"resolution_mm must be > 0 (0 only with a brain_mask), got {self.resolution_mm}"
            )

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

    @property
    def synthetic_window_ms(self) -> float:
        """Window of the synthetic impacts [ms]: `window_ms`, or 100 ms when it is "auto"."""
        return self.window_ms or 100.0

    @property
    def measured(self) -> bool:
        """True when the impacts come from files."""
        return self.impacts != "synthetic"

    def units(self) -> dict[str, str]:
        """Units of measured files that do not name theirs, by field of `axojax.kinematics.UNITS`."""
        return {
            "t": self.time_unit,
            "ang_vel": self.ang_vel_unit,
            "ang_acc": self.ang_acc_unit,
            "lin_acc_CG": self.lin_acc_unit,
        }

    def input_files(self) -> list[Path]:
        """Every input file the run reads (kinematics, masks, fibers), for provenance; strain files
        are added by the tissue stage once matched to impacts."""
        files: list[Path] = []
        if self.measured:
            files += impact_files(self.impacts)
        for name in ("brain_mask", "fibers_path", "fibers_bval", "fibers_bvec"):
            if getattr(self, name):
                files.append(Path(getattr(self, name)))
        return files


TISSUE_MODELS = ("reduced", "fe", "import")
FIBER_SOURCES = ("synthetic", "v1", "tensor", "tractogram", "dwi")

# study-file tables and keys -> RunConfig fields ("" = the top level)
SECTIONS: dict[str, dict[str, str]] = {
    "": {"seed": "seed"},
    "impacts": {
        "source": "impacts",
        "n_synthetic": "n_impacts",
        "held_out": "held_out",
        "held_out_peak_ang_vel_rad_s": "held_out_peak_ang_vel_rad_s",
        "time_unit": "time_unit",
        "ang_vel_unit": "ang_vel_unit",
        "ang_acc_unit": "ang_acc_unit",
        "lin_acc_unit": "lin_acc_unit",
    },
    "kinematics": {
        "dt_ms": "dt_ms",
        "window_ms": "window_ms",
        "filter": "kinematics_filter",
        "cutoff_hz": "cutoff_hz",
        "max_damage_loss_pct": "max_damage_loss_pct",
    },
    "tissue": {
        "model": "tissue_model",
        "element_size_mm": "element_size_mm",
        "surface": "fe_surface",
        "inverted": "inverted_elements",
        "strain": "strain_files",
        "fallback": "strain_fallback",
    },
    "brain": {"mask": "brain_mask", "threshold": "mask_threshold", "resolution_mm": "resolution_mm"},
    "fibers": {
        "source": "fibers",
        "path": "fibers_path",
        "bval": "fibers_bval",
        "bvec": "fibers_bvec",
        "convention": "fibers_convention",
        "resample": "fibers_resample",
    },
    "axon": {"preset": "preset"},
    "sampling": {
        k: k
        for k in (
            "n_train",
            "lc_sizes",
            "lc_folds",
            "n_worst",
            "measure",
            "tail_fraction",
            "augment_copies",
            "augment_scale",
        )
    },
    "surrogate": {k: k for k in ("epochs", "patience", "batch_size", "learning_rate", "channels")},
    "maps": {"impacts": "map_impacts"},
}
# fields holding paths (relative ones are taken from the study file's folder)
PATH_FIELDS = ("impacts", "strain_files", "brain_mask", "fibers_path", "fibers_bval", "fibers_bvec")


def _key(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _typed(value: Any, default: Any, where: str) -> Any:
    """`value` of a study file converted to the type of the field's default, or ValueError."""

    def fail(expected: str):
        raise ValueError(f"{where}: expected {expected}, got {value!r} ({type(value).__name__})")

    if isinstance(default, bool):
        return value if isinstance(value, bool) else fail("true or false")
    if isinstance(default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) else fail("an integer")
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        fail("a number")
    if isinstance(default, str):
        return value if isinstance(value, str) else fail("a string")
    if isinstance(default, tuple):
        kind = type(default[0])
        ok = (
            isinstance(value, list)
            and value
            and all(
                isinstance(v, (int, float))
                and not isinstance(v, bool)
                and (kind is float or isinstance(v, int))
                for v in value
            )
        )
        if not ok:
            fail(f"a list of {'numbers' if kind is float else 'integers'}")
        if len(default) == 2 and kind is float and len(value) != 2:
            fail("a list of two numbers [low, high]")
        return tuple(kind(v) for v in value)
    raise TypeError(f"{where}: unsupported field type {type(default).__name__}")  # pragma: no cover


def _resolve(path: str, base: Path) -> str:
    return path if not path or os.path.isabs(path) else str(base / path)


def config_from_dict(
    table: dict[str, Any],
    *,
    where: str = "config",
    base_dir: str | os.PathLike = ".",
    overrides: dict[str, Any] | None = None,
) -> RunConfig:
    """A `RunConfig` from a parsed study file (see the module docstring).

    Args:
        table: the parsed TOML (nested dicts).
        where: the file name, for messages.
        base_dir: folder that relative paths start from.
        overrides: RunConfig fields set after the file (command-line flags); "scale" picks the preset.

    Raises:
        ValueError: naming the file and key: an unknown table or key, a value of the wrong type or
            outside its choices, or an input file / folder / pattern that does not exist.
    """
    overrides = dict(overrides or {})
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    values: dict[str, Any] = {}
    scale = table.get("preset", "default")
    if not isinstance(scale, str) or scale not in PRESETS:
        raise ValueError(f"{where}: preset: expected one of {PRESETS}, got {scale!r}")
    for name, item in table.items():
        if name == "preset":
            continue
        if isinstance(item, dict):
            if name not in SECTIONS or not name:
                known = ", ".join(f"[{k}]" for k in SECTIONS if k)
                raise ValueError(f"{where}: unknown table [{name}] (known: {known})")
            items = [(name, k, v) for k, v in item.items()]
        else:
            items = [("", name, item)]
        for section, key, value in items:
            field = SECTIONS[section].get(key)
            if field is None:
                known = ", ".join(["preset", *SECTIONS[""]] if not section else SECTIONS[section])
                where_key = f"[{section}] {key}" if section else key
                raise ValueError(f"{where}: unknown key {where_key} (known: {known})")
            if field == "window_ms" and value == "auto":
                value = 0.0
            values[field] = _typed(value, defaults[field], f"{where}: {_key(section, key)}")
    base = Path(base_dir)
    for field in PATH_FIELDS:
        if field in values and not (field == "impacts" and values[field] == "synthetic"):
            values[field] = _resolve(values[field], base)
    scale = overrides.pop("scale", None) or scale
    values.update({k: v for k, v in overrides.items() if v is not None})
    keys = {f: _key(s, k) for s, m in SECTIONS.items() for k, f in m.items()}
    try:
        config = RunConfig.preset_config(scale, **values)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from err
    _check_inputs_exist(config, where, keys)
    return config


def _check_inputs_exist(config: RunConfig, where: str, keys: dict[str, str]) -> None:
    if config.measured:
        try:
            impact_files(config.impacts)
        except FileNotFoundError as err:
            raise ValueError(
                f"{where}: {keys['impacts']}: {err} (expected kinematics .mat/.csv/.npz)"
            ) from err
    for field in ("brain_mask", "fibers_path", "fibers_bval", "fibers_bvec"):
        path = getattr(config, field)
        if path and not (Path(path).is_file() or glob.has_magic(path) and glob.glob(path)):
            raise ValueError(f"{where}: {keys[field]}: {path}: no such file")


def load_config(path: str | os.PathLike, *, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read a study file (TOML) into a `RunConfig` (`config_from_dict`).

    Raises:
        ValueError: naming the file: not found, not valid TOML, or the errors of `config_from_dict`.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such study file")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a valid TOML study file ({err})") from err
    return config_from_dict(table, where=str(path), base_dir=path.parent, overrides=overrides)


def template_toml() -> str:
    """The commented study file `axojax init` writes; read back, it is the default config."""
    return TEMPLATE


TEMPLATE = """\
# axojax study file: `axojax run --config study.toml --out DIR` (flags on the command line win).
# Every key is optional; this file as written is the embedded default run. Keys commented out
# with "# " are set by the preset (default / paper / tiny values in docs/pipeline.md); uncomment one
# to override it. Relative paths start at this file's folder. See docs/study.md.

preset = "default"          # scale of the run: default | paper | tiny (the keys below override it)
seed = 0                    # PRNG seed: synthetic impacts, held-out draw, training, folds

[impacts]
source = "synthetic"        # "synthetic", or a .mat (struct array `impact`) / .csv / .npz file,
                            # a folder of them, or a glob such as "kinematics/*.csv"
# n_synthetic = 20            # synthetic only: training impacts (one more is held out)
held_out = "auto"           # synthetic: "auto"; measured: "most_severe" (peak |alpha|), "random",
                            # or an impact's name (CSV/NPZ: the file stem; MAT: "stem[i]")
held_out_peak_ang_vel_rad_s = [20.0, 30.0]   # synthetic held-out impact: peak |omega| range
time_unit = "s"             # units of files that do not name them: s | ms | us
ang_vel_unit = "rad/s"      # rad/s | deg/s | rpm
ang_acc_unit = "rad/s2"     # rad/s2 | krad/s2 | deg/s2
lin_acc_unit = "m/s2"       # m/s2 | g

[kinematics]
dt_ms = 1.0                 # model time step
window_ms = "auto"          # model window [ms], or "auto": synthetic 100 ms; measured: the shortest
                            # window (100 ms up) in which no impact loses > max_damage_loss_pct
filter = "cfc180"           # anti-aliasing before resampling: cfc180 (SAE J211) | butterworth | none
cutoff_hz = 0.0             # butterworth cut-off; 0 = 0.4 / dt
max_damage_loss_pct = 1.0   # DAMAGE a window may lose against the full record

[tissue]
# model = "fe"                # fe (the FE brain) | reduced | import (the tiny preset: reduced)
element_size_mm = 6.0       # fe: element size (6 mm: ~19 s per impact on 2 CPU cores, smooth surface)
surface = "smooth"          # fe: brain surface on the smooth skull surface | staircase (the voxel mesh)
inverted = "exclude"        # fe: a solve in which an element inverts: exclude (finish; its voxels are
                            # flagged, left out of sampling, marked in the maps) | stop
strain = ""                 # import: one file per impact, e.g. "strain/{name}.nii.gz" ({name},
                            # {stem}, {index}); NIfTI (x,y,z,t,6), NPZ, or an LS-DYNA d3plot
fallback = "none"           # import: impacts without a strain file: none (error) | reduced

[brain]
mask = ""                   # white-matter NIfTI; "" = the embedded MNI ICBM152 white matter
threshold = 0.38            # white matter where the map >= threshold x its maximum
# resolution_mm = 2.0         # block-average the mask to this grid; 0 = the mask's own grid

[fibers]
source = "synthetic"        # synthetic | v1 (FSL dtifit V1) | tensor | tractogram (.trk/.tck) | dwi
path = ""                   # the V1 / tensor / tractogram / DWI file
bval = ""                   # dwi only
bvec = ""                   # dwi only
convention = "fsl"          # frame of V1 / tensor vectors: fsl | voxel | world
resample = false            # sample a fiber image on another grid at the nearest voxel

[axon]
preset = "male"             # male | female

[sampling]
# n_train = 2000              # adaptive training set of the final surrogate
# lc_sizes = [250, 500, 1000, 2000]   # learning-curve sizes
# lc_folds = 3
# n_worst = 75                # worst-case set of the held-out impact
measure = "nrmse"           # nrmse | xcorr
tail_fraction = 0.15        # share of n_train from the severity tail
augment_copies = 4          # amplitude variants per training profile
augment_scale = [0.75, 1.25]

[surrogate]
# epochs = 300
# patience = 80
# batch_size = 64
learning_rate = 0.001
# channels = [16, 32, 64]

[maps]
impacts = "held_out"        # held_out | all
"""
