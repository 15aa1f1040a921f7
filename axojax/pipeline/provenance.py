"""Provenance of a run: SHA-256 of every input file, the config and the axojax version (DIR/provenance.json).

Recorded when a run first reads its inputs; on every rerun (resume) the files are hashed again and a
file that changed (or went missing) is refused, naming it, so a resumed run never mixes two inputs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._files import atomic_write_json
from .config import RunConfig

FILE = "provenance.json"


def sha256_file(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk_bytes), b""):
            h.update(block)
    return h.hexdigest()


def config_sha256(config: RunConfig) -> str:
    """SHA-256 of the config's canonical JSON."""
    return hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()


def record_inputs(
    out: Path, config: RunConfig, files: Iterable[str | Path], *, study_file: str | Path | None = None
) -> dict[str, Any]:
    """Hash `files`; add new ones to DIR/provenance.json, refuse ones whose hash changed.

    Args:
        out: the run folder.
        config: the run's config (its hash and the axojax version are recorded the first time).
        files: input files read by the run so far.
        study_file: the TOML the config came from (hashed for the record, not checked: the config
            itself is compared by `check_config`).

    Returns:
        The provenance record.

    Raises:
        ValueError: naming the file: an input recorded earlier that changed or is gone.
    """
    import axojax

    path = out / FILE
    record = json.loads(path.read_text()) if path.exists() else {}
    record.setdefault("axojax_version", axojax.__version__)
    record.setdefault("config_sha256", config_sha256(config))
    record.setdefault("config", config.to_dict())
    if study_file is not None and "study_file" not in record:
        record["study_file"] = {"path": str(study_file), "sha256": sha256_file(study_file)}
    inputs = record.setdefault("inputs", {})
    for name, digest in inputs.items():
        if not Path(name).is_file():
            raise ValueError(
                f"{name}: input of the run in {out} is gone; restore it or use a new --out folder"
            )
    changed = False
    for f in files:
        name = str(Path(f).resolve())
        digest = sha256_file(name)
        old = inputs.get(name)
        if old is None:
            inputs[name] = digest
            changed = True
        elif old != digest:
            raise ValueError(
                f"{name}: changed since the run in {out} read it "
                f"(SHA-256 {old[:12]}... -> {digest[:12]}...); "
                "restore the file or use a new --out folder"
            )
    if changed or not path.exists():
        atomic_write_json(path, record)
    return record
