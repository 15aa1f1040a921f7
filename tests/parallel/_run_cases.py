"""Subprocess entry: run `_cases` workloads on every visible device and save the results.

    python _run_cases.py OUT_DIR [--cases campaign,fiber,...] [--typecheck] [--distributed]

Set the device count before starting (`XLA_FLAGS=--xla_force_host_platform_device_count=4`).
`--typecheck` checks shapes with jaxtyping + beartype as under pytest (~3 s more import time).
`--distributed` first joins the run described by JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES /
JAX_PROCESS_ID (every process shares OUT_DIR's stores; process 0 writes the results). Configures
JAX as tests/conftest.py does. Writes OUT_DIR/results.npz and prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")

import numpy as np  # noqa: E402
from jaxtyping import install_import_hook  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--cases", default="campaign,fiber,surrogate,sharded")
    parser.add_argument("--typecheck", action="store_true")
    parser.add_argument("--distributed", action="store_true")
    args = parser.parse_args()
    hook = install_import_hook("axojax", "beartype.beartype") if args.typecheck else contextlib.nullcontext()
    with hook:
        from axojax import parallel

        distributed = parallel.initialize_distributed() if args.distributed else False
        import _cases  # beside this script

        results = _cases.run_cases(args.out_dir, tuple(args.cases.split(",")))
    if parallel.process_index() == 0:
        np.savez(args.out_dir / "results.npz", **results)
    info = dict(
        distributed=distributed,
        process_index=parallel.process_index(),
        process_count=parallel.process_count(),
        local_devices=parallel.local_device_count(),
        devices=jax.device_count(),
        keys=sorted(results),
    )
    print(json.dumps(info))
