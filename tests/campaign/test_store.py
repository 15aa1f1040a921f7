"""The campaign directory on its own (no solves): manifest, chunk files, resume bookkeeping."""

import json

import equinox as eqx
import numpy as np
import pytest

from axojax.axon import AxonParams, SolverSettings
from axojax.campaign import load_campaign, store

from .conftest import CHUNK


def _open(out_dir, t_s, profiles, ids, params=None):
    settings = (SolverSettings(), SolverSettings(rtol=1e-4, max_steps=16384))
    manifest = store.campaign_manifest(
        t_s, profiles, ids, AxonParams.male() if params is None else params, CHUNK, settings
    )
    return manifest, store.open_campaign(out_dir, manifest, t_s, profiles, ids)


def _fake_chunk(manifest, index, *, failed_row=None):
    start, stop = store.chunk_rows(manifest, index)
    m = stop - start
    outputs = np.tile(np.arange(4.0), (m, 1)) + index
    arrays = dict(
        outputs=outputs,
        success=np.ones(m, bool),
        status=np.zeros(m, np.int32),
        attempts=np.ones(m, np.int32),
        status_by_attempt=np.stack([np.zeros(m, np.int32), np.full(m, -1, np.int32)], axis=-1),
    )
    if failed_row is not None:
        arrays["outputs"][failed_row] = np.nan
        arrays["success"][failed_row] = False
        arrays["status"][failed_row] = 1
        arrays["attempts"][failed_row] = 2
        arrays["status_by_attempt"][failed_row] = (1, 1)
    return start, stop, arrays


def test_open_write_reopen_and_load(selection, tmp_path):
    t_s, profiles, ids = selection
    manifest, done = _open(tmp_path, t_s, profiles, ids)
    assert done == set() and manifest["n_chunks"] == 4
    stored = store.read_manifest(tmp_path)
    assert stored["chunk_size"] == CHUNK and stored["axojax_version"]
    assert stored["complete"] is False and len(stored["settings"]) == 2
    assert stored["settings"][1]["max_steps"] == 16384 and stored["settings"][1]["grid"]["n_mt"] > 0
    for i in range(4):
        path = store.write_chunk(tmp_path, i, *_fake_chunk(manifest, i, failed_row=1 if i == 2 else None))
        assert path.name == f"chunk_{i:05d}.npz"
    _, done = _open(tmp_path, t_s, profiles, ids)
    assert done == {0, 1, 2, 3}
    result = load_campaign(tmp_path)
    np.testing.assert_array_equal(result.profiles, profiles)
    np.testing.assert_array_equal(result.ids, ids)
    np.testing.assert_array_equal(result.t_s, t_s)
    np.testing.assert_array_equal(result.outputs[0], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(result.success, [True] * 5 + [False] + [True] * 2)
    assert result.failure_reasons() == {
        5: "attempt 1: max_steps_reached: The maximum number of solver steps was reached. Try increasing "
        "`max_steps`.; attempt 2: max_steps_reached: The maximum number of solver steps was reached. "
        "Try increasing `max_steps`."
    }
    store.mark_complete(tmp_path, 1)
    assert store.read_manifest(tmp_path)["complete"] is True
    _open(tmp_path, t_s, profiles, ids)  # a complete manifest still resumes (identity unchanged)


def test_stray_tmp_removed_and_corrupt_chunk_recomputed(selection, tmp_path):
    t_s, profiles, ids = selection
    manifest, _ = _open(tmp_path, t_s, profiles, ids)
    store.write_chunk(tmp_path, 0, *_fake_chunk(manifest, 0))
    store.write_chunk(tmp_path, 1, *_fake_chunk(manifest, 1))
    (tmp_path / "chunk_00002.npz.tmp").write_bytes(b"PK\x03\x04 half a zip")  # killed mid-write
    store.chunk_path(tmp_path, 1).write_bytes(b"not a zip")  # damaged after the fact
    with pytest.warns(RuntimeWarning, match="chunk_00001.npz: unreadable chunk file"):
        _, done = _open(tmp_path, t_s, profiles, ids)
    assert done == {0}
    assert not list(tmp_path.glob("*.tmp"))
    assert not store.chunk_path(tmp_path, 1).exists()


def test_incomplete_campaign(selection, tmp_path):
    t_s, profiles, ids = selection
    manifest, _ = _open(tmp_path, t_s, profiles, ids)
    store.write_chunk(tmp_path, 1, *_fake_chunk(manifest, 1))
    with pytest.raises(ValueError, match="incomplete, 3 of 4 chunks missing .first: chunk_00000.npz"):
        load_campaign(tmp_path)
    partial = load_campaign(tmp_path, allow_partial=True)
    np.testing.assert_array_equal(partial.attempts, [0, 0, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(partial.status[:2], [-1, -1])
    assert np.isnan(partial.outputs[[0, 1, 4, 5, 6, 7]]).all()
    assert partial.failure_reasons()[0] == "not run"


def test_refusals(selection, tmp_path):
    t_s, profiles, ids = selection
    manifest, _ = _open(tmp_path / "a", t_s, profiles, ids)
    with pytest.raises(ValueError, match="ids_sha256"):
        _open(tmp_path / "a", t_s, profiles, ids[::-1].copy())
    with pytest.raises(ValueError, match="params_sha256"):
        _open(
            tmp_path / "a",
            t_s,
            profiles,
            ids,
            eqx.tree_at(lambda p: p.tau_relaxation_ms, AxonParams.male(), 6.0),
        )
    # chunk files but no manifest
    (tmp_path / "b").mkdir()
    store.write_chunk(tmp_path / "b", 0, *_fake_chunk(manifest, 0))
    with pytest.raises(ValueError, match="chunk files but no manifest.json"):
        _open(tmp_path / "b", t_s, profiles, ids)
    # a chunk holding other rows
    store.write_chunk(tmp_path / "a", 1, *_fake_chunk(manifest, 0))
    with pytest.raises(store.ChunkError, match=r"holds rows \[0, 2\), expected \[2, 4\)"):
        store.read_chunk(tmp_path / "a", 1, manifest)
    # a newer format
    text = json.loads((tmp_path / "a" / "manifest.json").read_text())
    text["format_version"] = 99
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(text))
    with pytest.raises(ValueError, match="newer"):
        store.read_manifest(tmp_path / "a")
    with pytest.raises(FileNotFoundError, match="no campaign manifest"):
        load_campaign(tmp_path / "c")


def test_tampered_inputs_detected(selection, tmp_path):
    t_s, profiles, ids = selection
    manifest, _ = _open(tmp_path, t_s, profiles, ids)
    for i in range(4):
        store.write_chunk(tmp_path, i, *_fake_chunk(manifest, i))
    np.savez(tmp_path / "inputs.npz", t_s=t_s, profiles=profiles * 0.5, ids=ids)
    with pytest.raises(ValueError, match="array profiles does not match"):
        load_campaign(tmp_path)


def test_hashes(monkeypatch, tmp_path):
    a = np.linspace(0.0, 1.0, 60).reshape(12, 5)
    h = store.hash_array(a)
    assert store.hash_array(a.copy()) == h
    assert store.hash_array(a.astype(np.float32)) != h
    assert store.hash_array(a.reshape(5, 12)) != h
    b = a.copy()
    b[7, 3] += 1e-15
    assert store.hash_array(b) != h
    np.save(tmp_path / "a.npy", a)
    assert store.hash_array(np.load(tmp_path / "a.npy", mmap_mode="r")) == h
    assert store.hash_array(a.astype(">f8")) == h  # byte order does not matter
    monkeypatch.setattr(store, "_HASH_BLOCK_BYTES", 16)  # many small blocks: same digest
    assert store.hash_array(a) == h
    male = AxonParams.male()
    assert store.hash_params(male) == store.hash_params(AxonParams.male())
    assert store.hash_params(male) != store.hash_params(AxonParams.female())
    assert store.hash_params(male) != store.hash_params(eqx.tree_at(lambda p: p.mt_gap_um, male, 1.5))
