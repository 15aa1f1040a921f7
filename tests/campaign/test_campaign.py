import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from axojax.axon import SolverSettings
from axojax.campaign import (
    default_retry_settings,
    load_campaign,
    run_campaign,
    status_reason,
    store,
    training_arrays,
)

from .conftest import CHUNK, T_S, ramp

REPO = Path(__file__).resolve().parents[2]

# The child runs the campaign exactly as a user would, but sleeps after each chunk it writes, so
# the SIGKILL below (sent as soon as the first chunk file appears) lands mid-campaign.
CHILD = textwrap.dedent(
    """
    import sys, time
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    from axojax.campaign import run_campaign, store

    _write_chunk = store.write_chunk

    def slow_write_chunk(*args, **kwargs):
        path = _write_chunk(*args, **kwargs)
        time.sleep(2.0)
        return path

    store.write_chunk = slow_write_chunk
    with np.load(sys.argv[1]) as z:
        t_s, profiles, ids = z["t_s"], z["profiles"], z["ids"]
    run_campaign(t_s, profiles, sys.argv[2], ids=ids, chunk_size=int(sys.argv[3]), progress=False)
    """
)


def _kill_when_chunk_appears(proc: subprocess.Popen, out_dir: Path, box: dict) -> None:
    deadline = time.monotonic() + 240.0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            box["error"] = f"child exited with {proc.returncode} before it was killed"
            return
        if any(out_dir.glob("chunk_*.npz")):
            os.kill(proc.pid, signal.SIGKILL)
            box["killed"] = True
            return
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    box["error"] = "no chunk file appeared within 240 s"


def _assert_same_results(a, b):
    np.testing.assert_array_equal(a.outputs, b.outputs)
    np.testing.assert_array_equal(a.success, b.success)
    np.testing.assert_array_equal(a.status, b.status)
    np.testing.assert_array_equal(a.attempts, b.attempts)
    np.testing.assert_array_equal(a.status_by_attempt, b.status_by_attempt)
    np.testing.assert_array_equal(a.profiles, b.profiles)
    np.testing.assert_array_equal(a.ids, b.ids)


def test_resume_after_sigkill_matches_uninterrupted_run(selection, tmp_path, capsys):
    t_s, profiles, ids = selection
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, t_s=t_s, profiles=profiles, ids=ids)
    out_dir = tmp_path / "killed"
    log = open(tmp_path / "child.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(inputs), str(out_dir), str(CHUNK)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    box: dict = {}
    killer = threading.Thread(target=_kill_when_chunk_appears, args=(proc, out_dir, box))
    killer.start()
    try:
        # the uninterrupted reference compiles here while the child compiles (2 cores)
        reference = run_campaign(
            t_s, profiles, tmp_path / "reference", ids=ids, chunk_size=CHUNK, progress=False
        )
    finally:
        killer.join(timeout=300.0)
        proc.wait(timeout=60.0)
        log.close()
    assert box.get("killed"), f"{box.get('error')}; child log:\n{(tmp_path / 'child.log').read_text()}"
    assert proc.returncode == -signal.SIGKILL

    manifest = store.read_manifest(out_dir)
    finished = sorted(out_dir.glob("chunk_*.npz"))
    assert 1 <= len(finished) < manifest["n_chunks"]  # killed mid-campaign
    digests = {}
    for path in finished:
        index = int(path.stem.split("_")[1])
        data = store.read_chunk(out_dir, index, manifest)  # intact: readable, right rows and shapes
        sl = slice(*store.chunk_rows(manifest, index))
        np.testing.assert_array_equal(data["outputs"], reference.outputs[sl])
        digests[path.name] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)

    capsys.readouterr()
    resumed = run_campaign(t_s, profiles, out_dir, ids=ids, chunk_size=CHUNK, progress=True)
    err = capsys.readouterr().err
    assert f"resuming: {len(finished)}/{manifest['n_chunks']} chunks already finished" in err
    for name, (digest, mtime) in digests.items():  # finished chunks were kept, not recomputed
        path = out_dir / name
        assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == (digest, mtime)
    assert not list(out_dir.glob("*.tmp"))
    _assert_same_results(resumed, reference)
    _assert_same_results(load_campaign(out_dir), reference)
    assert reference.success.all() and np.isfinite(reference.outputs).all()
    assert store.read_manifest(out_dir)["complete"] is True


def test_rerun_of_finished_campaign_only_reads(selection, tmp_path, capsys):
    t_s, profiles, ids = selection
    first = run_campaign(t_s, profiles[:4], tmp_path, ids=ids[:4], chunk_size=CHUNK, progress=False)
    mtimes = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("chunk_*.npz")}
    again = run_campaign(t_s, profiles[:4], tmp_path, ids=ids[:4], chunk_size=CHUNK, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("chunk_*.npz")} == mtimes
    _assert_same_results(first, again)
    assert capsys.readouterr().err == ""  # progress=False is silent
    np.testing.assert_array_equal(first.t_s, T_S)
    assert first.out_dir == tmp_path


def test_restart_with_different_inputs_is_refused(selection, tmp_path):
    t_s, profiles, ids = selection
    run_campaign(t_s, profiles[:2], tmp_path, ids=ids[:2], chunk_size=CHUNK, progress=False)
    with pytest.raises(ValueError, match="profiles_sha256"):
        run_campaign(t_s, profiles[2:4], tmp_path, ids=ids[:2], chunk_size=CHUNK, progress=False)
    with pytest.raises(ValueError, match="chunk_size"):
        run_campaign(t_s, profiles[:2], tmp_path, ids=ids[:2], chunk_size=1, progress=False)
    with pytest.raises(ValueError, match="t_s_sha256"):
        run_campaign(1.01 * t_s, profiles[:2], tmp_path, ids=ids[:2], chunk_size=CHUNK, progress=False)
    with pytest.raises(ValueError, match="params_sha256"):
        from axojax.axon import AxonParams

        run_campaign(
            t_s,
            profiles[:2],
            tmp_path,
            ids=ids[:2],
            params=AxonParams.female(),
            chunk_size=CHUNK,
            progress=False,
        )
    with pytest.raises(ValueError, match="settings"):
        run_campaign(
            t_s,
            profiles[:2],
            tmp_path,
            ids=ids[:2],
            chunk_size=CHUNK,
            settings=SolverSettings(rtol=1e-4),
            progress=False,
        )


# max_steps=24 on 21 samples: a zero profile needs ~20 steps and passes, a 30 /s ramp needs more.
TOO_FEW_STEPS = SolverSettings(max_steps=24)


def _failure_profiles():
    zero = np.zeros_like(T_S)
    return np.stack([zero, ramp(30.0, 0.05), ramp(50.0, 0.10), zero])


def test_failed_solve_is_retried_with_other_settings(tmp_path):
    profiles = _failure_profiles()
    result = run_campaign(
        T_S,
        profiles,
        tmp_path / "retried",
        chunk_size=CHUNK,
        settings=TOO_FEW_STEPS,
        retry_settings=[SolverSettings()],
        progress=False,
    )
    assert result.success.all()
    np.testing.assert_array_equal(result.attempts, [1, 2, 2, 1])
    np.testing.assert_array_equal(result.status_by_attempt[:, 0], [0, 1, 1, 0])  # 1: max_steps_reached
    np.testing.assert_array_equal(result.status_by_attempt[:, 1], [-1, 0, 0, -1])
    np.testing.assert_array_equal(result.status, [0, 0, 0, 0])
    assert status_reason(1).startswith("max_steps_reached")
    # the retried rows equal a first-time solve with the retry settings
    direct = run_campaign(
        T_S, profiles, tmp_path / "direct", chunk_size=CHUNK, retry_settings=(), progress=False
    )
    np.testing.assert_allclose(result.outputs, direct.outputs, rtol=1e-12, atol=0.0)
    assert result.failure_reasons() == {}
    p, y = training_arrays(result)
    assert p.shape == (4, T_S.size) and y.shape == (4, 4)


def test_permanent_failure_is_stored_and_left_out_of_training(tmp_path):
    profiles = _failure_profiles()
    with pytest.warns(RuntimeWarning, match="2 of 4 profile"):
        result = run_campaign(
            T_S,
            profiles,
            tmp_path,
            chunk_size=CHUNK,
            settings=TOO_FEW_STEPS,
            retry_settings=[TOO_FEW_STEPS],
            progress=False,
        )
    np.testing.assert_array_equal(result.success, [True, False, False, True])
    np.testing.assert_array_equal(result.attempts, [1, 2, 2, 1])
    np.testing.assert_array_equal(result.status, [0, 1, 1, 0])
    assert np.isnan(result.outputs[1:3]).all()
    reasons = result.failure_reasons()
    assert sorted(reasons) == [1, 2]
    assert reasons[1].count("max_steps_reached") == 2
    p, y = training_arrays(result)
    np.testing.assert_array_equal(p, profiles[[0, 3]])
    assert y.shape == (2, 4) and np.isfinite(y).all()
    np.testing.assert_array_equal(y, 0.0)  # zero strain, zero damage
    loaded = load_campaign(tmp_path)
    np.testing.assert_array_equal(loaded.success, result.success)
    np.testing.assert_array_equal(training_arrays(loaded)[1], y)
    assert store.read_manifest(tmp_path)["n_failed"] == 2


def test_default_retries_tighten_rtol_and_raise_max_steps():
    base = SolverSettings(rtol=1e-3, atol=1e-5, max_steps=100)
    first, second = default_retry_settings(base)
    assert (first.rtol, first.atol, first.max_steps) == pytest.approx((1e-4, 1e-5, 400))
    assert (second.rtol, second.max_steps) == pytest.approx((1e-5, 1600))
    assert first.grid == base.grid
    assert default_retry_settings(base, retries=0) == ()


def test_bad_inputs_are_refused(selection, tmp_path):
    t_s, profiles, ids = selection
    with pytest.raises(ValueError, match="percent"):
        run_campaign(t_s, 100.0 * profiles + 5.0, tmp_path, progress=False)
    with pytest.raises(ValueError, match="chunk_size"):
        run_campaign(t_s, profiles, tmp_path, chunk_size=0, progress=False)
    bad = profiles.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        run_campaign(t_s, bad, tmp_path, progress=False)
    assert not (tmp_path / "manifest.json").exists()
