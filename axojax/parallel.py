"""Device meshes, batch sharding and multi-host work splitting: the only module that knows about devices.

Stages stay single-device in their own code; they hand a batched function and its arrays to
`run_sharded`, which on one visible device simply calls the function (no padding, no extra jit: the
single-device results are unchanged) and on several devices

1. pads the batch axis to a multiple of the device count (`pad_batch`),
2. places the rows on a 1-D mesh over this process's devices (`batch_mesh`, `shard_batch`),
3. runs the function once per device on its own rows (`jax.shard_map`, no communication), and
4. drops the padding rows (`unpad_batch`).

Several hosts (or several processes on one host, e.g. one per GPU) join JAX's distributed runtime
with `initialize_distributed()`. Each process then takes its share of the work (`process_share`:
chunks of a campaign, (impact, voxel chunk) pairs of the profile store) and shards it over its own
local devices: the batch workloads are embarrassingly parallel, so no array ever spans hosts and
the only cross-process traffic is the barrier `sync_processes`. See `docs/distributed.md`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import Array, ArrayLike, PyTree, Shaped

BATCH_AXIS = "batch"
PadMode = Literal["edge", "zeros"]
_T = TypeVar("_T")

# --- meshes and shardings
# ---------------------------------------------------------------------------------------------


def local_device_count() -> int:
    """Number of devices this process drives (all visible devices in a single-process run)."""
    return jax.local_device_count()


def batch_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D device mesh with the single axis `BATCH_AXIS`.

    Args:
        devices: devices of the mesh, in order (default `jax.local_devices()`: this process's own
            devices, so the mesh never spans hosts).

    Raises:
        ValueError: an empty device list.
    """
    devs = list(jax.local_devices() if devices is None else devices)
    if not devs:
        raise ValueError("batch_mesh: need at least one device, got an empty list")
    return Mesh(np.asarray(devs, dtype=object), (BATCH_AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Rows split over the mesh's batch axis (the other axes whole on each device)."""
    return NamedSharding(mesh, PartitionSpec(BATCH_AXIS))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
    """A full copy on every device of the mesh."""
    return NamedSharding(mesh, PartitionSpec())


# --- padding
# ---------------------------------------------------------------------------------------------


def padded_size(n: int, multiple: int) -> int:
    """Smallest multiple of `multiple` that is >= `n` (0 stays 0).

    >>> padded_size(7, 4), padded_size(8, 4), padded_size(3, 1)
    (8, 8, 3)

    Raises:
        ValueError: n < 0 or multiple < 1.
    """
    if n < 0 or multiple < 1:
        raise ValueError(f"padded_size: need n >= 0 and multiple >= 1, got n={n}, multiple={multiple}")
    return -(-n // multiple) * multiple


def pad_batch(
    x: Shaped[ArrayLike, "batch ..."], size: int, *, mode: PadMode = "edge"
) -> Shaped[ArrayLike, "padded ..."]:
    """Pad the leading (batch) axis to `size` rows; NumPy in, NumPy out (host memory), else a jax Array.

    Args:
        x: batch, shape (n, ...), n >= 1 for mode "edge".
        size: rows wanted, >= n.
        mode: "edge" repeats the last row (always a valid input), "zeros" appends zero rows.

    Returns:
        `x` itself when n == size, else the padded batch (size, ...).

    Raises:
        ValueError: size < n, an unknown mode, or "edge" padding of an empty batch.
    """
    n = int(np.shape(x)[0])
    if size < n:
        raise ValueError(f"pad_batch: cannot pad {n} rows down to {size}")
    if mode not in ("edge", "zeros"):
        raise ValueError(f"pad_batch: mode must be 'edge' or 'zeros', got {mode!r}")
    if size == n:
        return x
    xp = np if isinstance(x, np.ndarray) else jnp
    x = xp.asarray(x)
    if mode == "zeros":
        fill = xp.zeros((size - n, *x.shape[1:]), x.dtype)
    elif n == 0:
        raise ValueError("pad_batch: mode 'edge' needs at least one row")
    else:
        fill = xp.broadcast_to(x[n - 1 :], (size - n, *x.shape[1:]))
    return xp.concatenate([x, fill], axis=0)


def unpad_batch(tree: PyTree[Shaped[ArrayLike, "padded ..."]], n: int) -> PyTree[Shaped[ArrayLike, "n ..."]]:
    """The first `n` rows of every leaf of `tree` (undoes `pad_batch`)."""
    return jax.tree_util.tree_map(lambda a: a[:n], tree)


# --- placing and running
# ---------------------------------------------------------------------------------------------


def shard_batch(x: Shaped[ArrayLike, "batch ..."], mesh: Mesh | None = None) -> Shaped[Array, "batch ..."]:
    """Rows of `x` split over the devices of `mesh` (default `batch_mesh()`).

    On a one-device mesh this is `jnp.asarray(x)` (default device, uncommitted), as single-device
    code would do.

    Raises:
        ValueError: a row count that is not a multiple of the device count (pad first).
    """
    mesh = batch_mesh() if mesh is None else mesh
    if mesh.size == 1:
        return jnp.asarray(x)
    n = int(np.shape(x)[0])
    if n % mesh.size:
        raise ValueError(
            f"shard_batch: {n} rows do not split over {mesh.size} devices; pad to "
            f"{padded_size(n, mesh.size)} rows first (pad_batch)"
        )
    return jax.device_put(x, batch_sharding(mesh))


@eqx.filter_jit
def _sharded_call(fn, mesh, batched, replicated):
    # arrays of `replicated` are copied to every device; the rest (settings, graph defs) is static
    dynamic, static = eqx.partition(replicated, eqx.is_array)

    def local(rows, dyn):
        return fn(*rows, *eqx.combine(dyn, static))

    spec = PartitionSpec(BATCH_AXIS)
    return jax.shard_map(local, mesh=mesh, in_specs=(spec, PartitionSpec()), out_specs=spec, check_vma=False)(
        batched, dynamic
    )


def run_sharded(
    fn: Callable[..., PyTree[Any]],
    batched: Sequence[Shaped[ArrayLike, "batch ..."]],
    replicated: Sequence[Any] = (),
    *,
    mesh: Mesh | None = None,
    pad_mode: PadMode = "edge",
) -> PyTree[Any]:
    """`fn(*batched, *replicated)` with the rows of `batched` split over the devices of `mesh`.

    `fn` must treat rows independently (a vmapped model) and return a pytree of arrays whose
    leading axis is the batch axis. With one device (the default mesh on a one-device machine) this
    is exactly `fn(*batched, *replicated)`. With D devices the batch is padded to a multiple of D
    (`pad_mode`), each device runs `fn` on its n/D rows, and the padding is dropped; `fn` is traced
    once per (batch shape, static arguments), so pass a module-level function, not a new lambda per
    call.

    Args:
        fn: batched function; shapes inside it are per device, (rows / D, ...).
        batched: arrays with the same leading batch size n >= 1 (NumPy stays on the host until
            placed).
        replicated: further arguments, whole on each device; arrays are traced, everything else
            (settings, graph definitions, flags) is static and must be hashable.
        mesh: 1-D mesh over `BATCH_AXIS` (default `batch_mesh()`).
        pad_mode: "edge" (repeat the last row) or "zeros", see `pad_batch`.

    Returns:
        `fn`'s pytree, leaves (n, ...), as jax Arrays split over the mesh.

    Raises:
        ValueError: no batched argument, or unequal batch sizes.
    """
    mesh = batch_mesh() if mesh is None else mesh
    if mesh.size == 1:
        return fn(*batched, *replicated)
    if len(batched) == 0:
        raise ValueError("run_sharded: need at least one batched argument")
    sizes = {int(np.shape(b)[0]) for b in batched}
    if len(sizes) != 1:
        raise ValueError(f"run_sharded: batched arguments have different leading sizes {sorted(sizes)}")
    (n,) = sizes
    size = padded_size(n, mesh.size)
    rows = tuple(shard_batch(pad_batch(b, size, mode=pad_mode), mesh) for b in batched)
    out = _sharded_call(fn, mesh, rows, tuple(replicated))
    return out if size == n else unpad_batch(out, n)


# --- processes (hosts)
# ---------------------------------------------------------------------------------------------


def process_index() -> int:
    """Index of this process in the distributed run (0 when single-process)."""
    return jax.process_index()


def process_count() -> int:
    """Number of processes in the distributed run (1 unless `initialize_distributed` joined one)."""
    return jax.process_count()


def process_share(n: int, *, index: int | None = None, count: int | None = None) -> range:
    """The items of range(n) this process works on: every `count`-th, from `index` (round robin).

    Defaults: `process_index()`, `process_count()`; a single process gets all of range(n).

    >>> list(process_share(10, index=1, count=4))
    [1, 5, 9]

    Raises:
        ValueError: n < 0, count < 1 or index outside 0..count-1.
    """
    index = process_index() if index is None else int(index)
    count = process_count() if count is None else int(count)
    if n < 0 or count < 1 or not 0 <= index < count:
        raise ValueError(f"process_share: need n >= 0 and 0 <= index < count, got {n=}, {index=}, {count=}")
    return range(index, n, count)


def sync_processes(name: str) -> None:
    """Barrier: wait until every process has reached the point `name` (no-op with one process)."""
    if process_count() > 1:
        multihost_utils.sync_global_devices(name)


def leader_first(fn: Callable[[], _T], name: str) -> _T:
    """`fn()` on process 0, then (after a barrier) on the other processes, then a barrier again.

    For setup that writes shared files (a store's manifest): process 0 creates them, the others
    only open and check them, and nobody starts writing work files before everyone has opened.
    With one process this is `fn()`.
    """
    if process_count() == 1:
        return fn()
    leader = process_index() == 0
    out = fn() if leader else None
    sync_processes(f"{name}:leader")
    if not leader:
        out = fn()
    sync_processes(f"{name}:all")
    return out  # type: ignore[return-value]


def distributed_settings(env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Arguments for `jax.distributed.initialize` read from environment variables, or None.

    Read, first found wins:

    - `JAX_COORDINATOR_ADDRESS` (host:port of process 0), `JAX_NUM_PROCESSES`, `JAX_PROCESS_ID`,
      `JAX_LOCAL_DEVICE_IDS` (comma-separated; default all devices the process sees);
    - under SLURM `srun` (`SLURM_JOB_ID`, `SLURM_NTASKS`, `SLURM_PROCID`, `SLURM_STEP_NODELIST`,
      `SLURM_LOCALID` all set): the process count and id; JAX derives the coordinator (first node,
      port from the job id, or `JAX_COORDINATOR_PORT`) itself. Local devices: with
      `--gpus-per-task` (`SLURM_GPUS_PER_TASK` set, SLURM binds `CUDA_VISIBLE_DEVICES` per task)
      or one task per node (`SLURM_NTASKS_PER_NODE=1`), every GPU the task sees
      (`CUDA_VISIBLE_DEVICES`, else `SLURM_GPUS_ON_NODE`); otherwise JAX's default, GPU number
      `SLURM_LOCALID` (one GPU per process, every task seeing all the node's GPUs).

    Returns:
        dict of `coordinator_address`, `num_processes`, `process_id`, `local_device_ids` (None
        where JAX should detect it), or None for a single-process run (nothing set, or one process).

    Raises:
        ValueError: a partial or inconsistent setting (naming the variable).
    """
    env = os.environ if env is None else env

    def _int(key: str) -> int:
        try:
            return int(env[key])
        except ValueError:
            raise ValueError(f"initialize_distributed: {key}={env[key]!r} is not an integer") from None

    local_ids = None
    if env.get("JAX_LOCAL_DEVICE_IDS"):
        local_ids = [int(i) for i in env["JAX_LOCAL_DEVICE_IDS"].split(",")]
    if "JAX_NUM_PROCESSES" in env or "JAX_PROCESS_ID" in env:
        missing = [
            k for k in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID") if not env.get(k)
        ]
        if missing:
            raise ValueError(f"initialize_distributed: {', '.join(missing)} not set (need all three)")
        settings = dict(
            coordinator_address=env["JAX_COORDINATOR_ADDRESS"],
            num_processes=_int("JAX_NUM_PROCESSES"),
            process_id=_int("JAX_PROCESS_ID"),
            local_device_ids=local_ids,
        )
    elif all(
        k in env
        for k in ("SLURM_JOB_ID", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_STEP_NODELIST", "SLURM_LOCALID")
    ):
        own_gpus = "SLURM_GPUS_PER_TASK" in env or env.get("SLURM_NTASKS_PER_NODE") == "1"
        if local_ids is None and own_gpus and env.get("CUDA_VISIBLE_DEVICES"):
            local_ids = list(range(len(env["CUDA_VISIBLE_DEVICES"].split(","))))
        elif local_ids is None and own_gpus and env.get("SLURM_GPUS_ON_NODE"):
            local_ids = list(range(_int("SLURM_GPUS_ON_NODE")))
        settings = dict(
            coordinator_address=env.get("JAX_COORDINATOR_ADDRESS") or None,
            num_processes=_int("SLURM_NTASKS"),
            process_id=_int("SLURM_PROCID"),
            local_device_ids=local_ids,
        )
    else:
        return None
    n, i = settings["num_processes"], settings["process_id"]
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"initialize_distributed: process id {i} outside 0..{n - 1} ({n} processes)")
    return settings if n > 1 else None


def initialize_distributed(env: Mapping[str, str] | None = None, **overrides: Any) -> bool:
    """Join JAX's distributed runtime when this process is one of several (call before any JAX work).

    Settings come from `distributed_settings(env)` (JAX_* variables, or SLURM `srun`), then
    `overrides` (any keyword of `jax.distributed.initialize`, e.g. `coordinator_address`,
    `num_processes`, `process_id`, `local_device_ids`). Without either, the run is single-process
    and nothing happens, so scripts may call this unconditionally.

    Returns:
        True if this process is now part of a multi-process run (or already was), else False.

    Raises:
        ValueError: partial settings (see `distributed_settings`).
    """
    if jax.distributed.is_initialized():
        return True
    settings = {**(distributed_settings(env) or {}), **overrides}
    if not settings or settings.get("num_processes") == 1:
        return False
    jax.distributed.initialize(**settings)
    return True
