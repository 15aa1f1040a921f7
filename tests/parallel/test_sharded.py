"""Sharded runs (4 forced host devices; 2 processes x 2 devices) against single-device runs.

The test process has already started JAX with one CPU device (tests/conftest.py), so the
multi-device runs happen in subprocesses (`_run_cases.py`), all started at once when this module's
fixture is first used, while the single-device references are computed here. Each writes the
`_cases` results to an .npz that the tests compare.

The axon model compiles in ~15-20 s per batch shape and process, so the 2-process run leaves the
campaign out unless AXOJAX_TEST_DISTRIBUTED_CAMPAIGN=1 (then `test_two_processes_campaign` runs it
too, adding ~40 s of CPU); its multi-process path uses the same helpers as the profile store's.

Per-device batch shapes differ from the single-device ones (e.g. 1 row per device instead of 3),
so XLA may round differently: results agree to rounding, not bit for bit.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from axojax.campaign import run_campaign

from . import _cases

SCRIPT = Path(__file__).with_name("_run_cases.py")
TIMEOUT_S = 600
WITH_CAMPAIGN = os.environ.get("AXOJAX_TEST_DISTRIBUTED_CAMPAIGN") == "1"


def _env(n_devices: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_", "SLURM_")) and k != "XLA_FLAGS"}
    return {
        **env,
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={n_devices}",
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(out_dir: Path, n_devices: int, *args: str, **env: str) -> subprocess.Popen:
    out_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(out_dir), *args],
        env=_env(n_devices, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(procs: dict[str, subprocess.Popen]) -> dict[str, dict]:
    """Wait for every process (killing the rest if one fails or hangs); their JSON lines by name."""
    infos, errors = {}, []
    try:
        for name, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
            if proc.returncode:
                errors.append(f"{name} failed ({proc.returncode}):\n{stderr[-4000:]}")
            else:
                infos[name] = json.loads(stdout.strip().splitlines()[-1])
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert not errors, "\n".join(errors)
    return infos


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Start the multi-device subprocesses, compute the single-device reference meanwhile."""
    root = tmp_path_factory.mktemp("sharded")
    port = str(_free_port())
    dist_cases = "fiber,sharded,campaign" if WITH_CAMPAIGN else "fiber,sharded"
    procs = {"four": _start(root / "four", 4, "--typecheck")}
    for i in range(2):
        procs[f"dist{i}"] = _start(
            root / "dist",
            2,
            "--distributed",
            "--cases",
            dist_cases,
            JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
            JAX_NUM_PROCESSES="2",
            JAX_PROCESS_ID=str(i),
        )
    try:
        reference = _cases.run_cases(root / "one")
    finally:
        infos = _finish(procs)
    return dict(root=root, reference=reference, infos=infos)


def _compare(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert set(got) <= set(want)
    for key, g in got.items():
        w = want[key]
        assert g.shape == w.shape and g.dtype == w.dtype, key
        if key.startswith("campaign/outputs"):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-14, err_msg=key)
        elif key.startswith(("surrogate/", "fiber/")):  # float32
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7, err_msg=key)
        else:  # flags, counts, run_sharded on exact data
            np.testing.assert_array_equal(g, w, err_msg=key)


def test_four_devices_match_one_device(runs):
    info = runs["infos"]["four"]
    assert (info["local_devices"], info["process_count"]) == (4, 1)
    with np.load(runs["root"] / "four" / "results.npz") as z:
        got = {k: z[k] for k in z.files}
    assert set(got) == set(runs["reference"])
    _compare(got, runs["reference"])
    assert got["campaign/success"].all() and got["campaign/outputs"].shape == (7, 4)


def test_uneven_rows_padded_and_unpadded(runs):
    """7 rows on 4 devices: one padding row added for the devices, then dropped, in both modes."""
    with np.load(runs["root"] / "four" / "results.npz") as z:
        x = np.arange(35, dtype=np.float64).reshape(7, 5)
        for mode in ("edge", "zeros"):
            np.testing.assert_array_equal(z[f"sharded/{mode}_rows"], x)
            np.testing.assert_array_equal(z[f"sharded/{mode}_total"], 2.0 * x.sum(-1))
            np.testing.assert_array_equal(z[f"sharded/{mode}_first"], x[:, 0])
        assert z["surrogate/whole"].shape == (7, 4) and z["fiber/profiles"].shape == (2, 32, 12)


def test_campaign_directory_resumes_across_device_counts(runs):
    """The 4-device campaign directory has the single-device manifest, and reopens here (1 device)."""
    four, one = runs["root"] / "four" / "campaign", runs["root"] / "one" / "campaign"
    keep = lambda d: {k: v for k, v in d.items() if k != "n_failed"}  # noqa: E731
    manifests = [json.loads((d / "manifest.json").read_text()) for d in (four, one)]
    assert keep(manifests[0]) == keep(manifests[1])
    res = run_campaign(
        _cases.T_S, _cases.campaign_profiles(), four, chunk_size=_cases.CAMPAIGN_CHUNK, progress=False
    )  # finished: only reads back
    with np.load(runs["root"] / "four" / "results.npz") as z:
        np.testing.assert_array_equal(res.outputs, z["campaign/outputs"])


def test_two_processes_match_one_device(runs):
    """2 processes x 2 devices on JAX's distributed runtime share one profile store (each builds its
    share of the (impact, chunk) pairs) and shard rows over their own devices."""
    infos = [runs["infos"]["dist0"], runs["infos"]["dist1"]]
    assert sorted(i["process_index"] for i in infos) == [0, 1]
    assert all(i["distributed"] and i["process_count"] == 2 and i["local_devices"] == 2 for i in infos)
    assert all(i["devices"] == 4 for i in infos)
    with np.load(runs["root"] / "dist" / "results.npz") as z:
        got = {k: z[k] for k in z.files}
    assert {k.split("/")[0] for k in got} >= {"fiber", "sharded"}
    _compare(got, runs["reference"])


@pytest.mark.slow
@pytest.mark.skipif(not WITH_CAMPAIGN, reason="set AXOJAX_TEST_DISTRIBUTED_CAMPAIGN=1 (two more compiles)")
def test_two_processes_campaign(runs):
    """Both processes solve their share of the chunks of one campaign directory."""
    with np.load(runs["root"] / "dist" / "results.npz") as z:
        got = {k: z[k] for k in z.files if k.startswith("campaign/")}
    assert sorted(got) == ["campaign/attempts", "campaign/outputs", "campaign/status", "campaign/success"]
    _compare(got, runs["reference"])
    manifest = json.loads((runs["root"] / "dist" / "campaign" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["n_failed"] == 0
