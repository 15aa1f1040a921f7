"""Save and restore a trained surrogate with orbax-checkpoint (the only file access of the stage).

Layout of a checkpoint directory (an orbax Composite checkpoint):
    state/     model state (weights, normalisation, training ranges), orbax StandardSave
    metadata/  JSON: format version, axojax version, architecture config, user metadata
               (e.g. axon preset name and values as plain floats), T and dt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
from flax import nnx

from .. import __version__
from ._model import SurrogateCNN, SurrogateConfig

FORMAT_VERSION = 1


def _compatible_version(saved: str, current: str) -> bool:
    """Same major version (same major.minor while major is 0)."""
    s, c = saved.split("."), current.split(".")
    return s[:2] == c[:2] if c[0] == "0" else s[0] == c[0]


def _shapes(tree) -> dict[str, tuple[int, ...]]:
    """Flattened {"a/b/c": shape} of a pytree of arrays or array metadata (keys as strings)."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return {"/".join(str(getattr(k, "key", k)) for k in kp): tuple(leaf.shape) for kp, leaf in flat}


def save_surrogate(path: str | Path, model: SurrogateCNN, metadata: dict[str, Any] | None = None) -> Path:
    """Write `model` and JSON-serialisable `metadata` to a new checkpoint directory.

    Args:
        path: directory to create (must not exist yet).
        model: trained `SurrogateCNN`.
        metadata: plain JSON values, e.g. {"axon_preset": "male", "axon_params": {...floats}}.

    Returns:
        The absolute checkpoint path.

    Raises:
        FileExistsError: `path` exists.
        TypeError: metadata not JSON-serialisable.
    """
    path = Path(path).absolute()
    if path.exists():
        raise FileExistsError(f"{path}: checkpoint directory already exists")
    meta = {
        "format_version": FORMAT_VERSION,
        "axojax_version": __version__,
        "config": model.config.to_dict(),
        "n_time": model.config.n_time,
        "dt_s": model.config.dt_s,
        "user": dict(metadata or {}),
    }
    json.dumps(meta)  # raises TypeError early for non-JSON values
    state = nnx.to_pure_dict(nnx.state(model))
    with ocp.Checkpointer(ocp.CompositeCheckpointHandler()) as ckptr:
        ckptr.save(
            path,
            ocp.args.Composite(state=ocp.args.StandardSave(state), metadata=ocp.args.JsonSave(meta)),
        )
    return path


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata dict of a checkpoint (keys: format_version, axojax_version, config, n_time, dt_s, user).

    Raises:
        FileNotFoundError: no checkpoint at `path`.
    """
    path = Path(path).absolute()
    if not (path / "metadata").is_dir() or not (path / "state").is_dir():
        raise FileNotFoundError(f"{path}: no surrogate checkpoint (need 'state/' and 'metadata/' inside)")
    with ocp.Checkpointer(ocp.CompositeCheckpointHandler()) as ckptr:
        out = ckptr.restore(path, ocp.args.Composite(metadata=ocp.args.JsonRestore()))
    return dict(out["metadata"])


def load_surrogate(
    path: str | Path,
    *,
    n_time: int | None = None,
    dt_s: float | None = None,
    config: SurrogateConfig | None = None,
) -> tuple[SurrogateCNN, dict[str, Any]]:
    """Restore a surrogate saved by `save_surrogate`.

    Builds an abstract model from the stored config with `nnx.eval_shape`, restores its state with
    orbax against that structure, then `nnx.update`s a concrete model.

    Args:
        path: checkpoint directory.
        n_time, dt_s, config: expectations of the caller; a mismatch raises.

    Returns:
        The model and the user metadata dict given at save time.

    Raises:
        FileNotFoundError: no checkpoint at `path`.
        ValueError: incompatible checkpoint (format or axojax version, T, dt, architecture, or stored
            arrays that do not fit the stored architecture).
    """
    path = Path(path).absolute()
    meta = read_metadata(path)
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path}: checkpoint format {meta.get('format_version')}, this axojax reads {FORMAT_VERSION}"
        )
    saved_version = str(meta.get("axojax_version", "?"))
    if not _compatible_version(saved_version, __version__):
        raise ValueError(
            f"{path}: saved by axojax {saved_version}, incompatible with installed {__version__}"
        )
    try:
        stored = SurrogateConfig.from_dict(meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: bad architecture config in checkpoint: {e}") from e
    if n_time is not None and stored.n_time != n_time:
        raise ValueError(f"{path}: surrogate trained on T={stored.n_time} samples, expected T={n_time}")
    # relative 1e-5: a step taken from a float32 time grid (1e-3 s -> 1.0000000475e-3) is the same grid
    if dt_s is not None and abs(stored.dt_s - dt_s) > 1e-5 * abs(dt_s):
        raise ValueError(f"{path}: surrogate trained at dt={stored.dt_s:.9g} s, expected dt={dt_s:.9g} s")
    if config is not None and stored != config:
        raise ValueError(f"{path}: architecture {stored} differs from expected {config}")

    abstract = nnx.eval_shape(lambda: SurrogateCNN(stored, rngs=nnx.Rngs(0)))
    abstract_state = nnx.state(abstract)
    target = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), nnx.to_pure_dict(abstract_state))
    # compare stored shapes with the architecture before restoring (orbax fails asynchronously otherwise)
    stored_tree = ocp.StandardCheckpointHandler().metadata(path / "state").tree
    if _shapes(stored_tree) != _shapes(target):
        raise ValueError(f"{path}: checkpoint state does not fit architecture {stored}")
    with ocp.Checkpointer(ocp.CompositeCheckpointHandler()) as ckptr:
        restored = ckptr.restore(path, ocp.args.Composite(state=ocp.args.StandardRestore(target)))["state"]
    nnx.replace_by_pure_dict(abstract_state, jax.tree.map(jnp.asarray, restored))
    nnx.update(abstract, abstract_state)  # the abstract model now holds concrete arrays
    return abstract, dict(meta.get("user", {}))
