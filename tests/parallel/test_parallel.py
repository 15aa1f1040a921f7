"""Single-device behaviour of axojax.parallel: padding helpers, the plain-call fallback, settings."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax import parallel


def test_padded_size():
    assert [parallel.padded_size(n, 4) for n in (0, 1, 4, 7, 8, 9)] == [0, 4, 4, 8, 8, 12]
    assert parallel.padded_size(7, 1) == 7
    with pytest.raises(ValueError, match="multiple >= 1"):
        parallel.padded_size(3, 0)
    with pytest.raises(ValueError, match="n >= 0"):
        parallel.padded_size(-1, 2)


@pytest.mark.parametrize("as_jax", [False, True])
def test_pad_batch_modes(as_jax):
    x = np.arange(14, dtype=np.float64).reshape(7, 2)
    x = jnp.asarray(x) if as_jax else x
    edge = parallel.pad_batch(x, 8)
    zeros = parallel.pad_batch(x, 10, mode="zeros")
    assert isinstance(edge, jax.Array if as_jax else np.ndarray)
    assert edge.shape == (8, 2) and zeros.shape == (10, 2) and edge.dtype == x.dtype
    np.testing.assert_array_equal(edge[:7], x)
    np.testing.assert_array_equal(edge[7], x[6])  # last row repeated
    np.testing.assert_array_equal(zeros[7:], 0.0)
    assert parallel.pad_batch(x, 7) is x  # nothing to pad: the same array
    np.testing.assert_array_equal(parallel.unpad_batch(edge, 7), x)


def test_pad_batch_errors():
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match="cannot pad 3 rows down to 2"):
        parallel.pad_batch(x, 2)
    with pytest.raises((ValueError, TypeError)):  # TypeError from the runtime type checker
        parallel.pad_batch(x, 4, mode="wrap")
    with pytest.raises(ValueError, match="at least one row"):
        parallel.pad_batch(np.ones((0, 2)), 4)
    np.testing.assert_array_equal(parallel.pad_batch(np.ones((0, 2)), 2, mode="zeros"), np.zeros((2, 2)))


def test_unpad_batch_pytree():
    tree = {"a": jnp.arange(8.0), "b": (jnp.ones((8, 3)), jnp.zeros((8, 2, 2)))}
    out = parallel.unpad_batch(tree, 5)
    assert out["a"].shape == (5,) and out["b"][0].shape == (5, 3) and out["b"][1].shape == (5, 2, 2)


def test_mesh_on_one_device():
    mesh = parallel.batch_mesh()
    assert mesh.axis_names == (parallel.BATCH_AXIS,) and mesh.size == parallel.local_device_count() == 1
    assert parallel.batch_sharding(mesh).spec == jax.sharding.PartitionSpec(parallel.BATCH_AXIS)
    assert parallel.replicated_sharding(mesh).spec == jax.sharding.PartitionSpec()
    with pytest.raises(ValueError, match="at least one device"):
        parallel.batch_mesh([])
    x = np.arange(6.0).reshape(3, 2)  # 3 rows: no multiple needed on one device
    np.testing.assert_array_equal(parallel.shard_batch(x, mesh), x)


def _double(x, y, scale):
    return {"x": 2.0 * x * scale, "y": y + 1}


def test_run_sharded_is_a_plain_call_on_one_device():
    x, y = np.arange(7.0), np.arange(14).reshape(7, 2)
    scale = jnp.asarray(3.0)
    calls = []

    def fn(*args):
        calls.append(args)
        return _double(*args)

    out = parallel.run_sharded(fn, (x, y), (scale,))
    assert len(calls) == 1 and calls[0][0] is x and calls[0][2] is scale  # untouched inputs, no padding
    np.testing.assert_array_equal(out["x"], 6.0 * x)
    np.testing.assert_array_equal(out["y"], y + 1)


def test_process_share():
    assert list(parallel.process_share(5)) == [0, 1, 2, 3, 4]  # single process: everything
    shares = [list(parallel.process_share(10, index=i, count=3)) for i in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert sorted(sum(shares, [])) == list(range(10))
    with pytest.raises(ValueError, match="index < count"):
        parallel.process_share(4, index=2, count=2)


def test_single_process_helpers():
    assert (parallel.process_index(), parallel.process_count()) == (0, 1)
    parallel.sync_processes("noop")
    assert parallel.leader_first(lambda: 42, "noop") == 42


def test_distributed_settings_from_jax_env():
    env = {"JAX_COORDINATOR_ADDRESS": "node1:1234", "JAX_NUM_PROCESSES": "4", "JAX_PROCESS_ID": "2"}
    assert parallel.distributed_settings(env) == dict(
        coordinator_address="node1:1234", num_processes=4, process_id=2, local_device_ids=None
    )
    env["JAX_LOCAL_DEVICE_IDS"] = "0,1"
    assert parallel.distributed_settings(env)["local_device_ids"] == [0, 1]
    with pytest.raises(ValueError, match="JAX_COORDINATOR_ADDRESS not set"):
        parallel.distributed_settings({"JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0"})
    with pytest.raises(ValueError, match="not an integer"):
        parallel.distributed_settings({**env, "JAX_NUM_PROCESSES": "two"})
    with pytest.raises(ValueError, match="outside 0..1"):
        parallel.distributed_settings({**env, "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "2"})
    assert parallel.distributed_settings({**env, "JAX_NUM_PROCESSES": "1", "JAX_PROCESS_ID": "0"}) is None


SLURM = {
    "SLURM_JOB_ID": "4242",
    "SLURM_NTASKS": "8",
    "SLURM_PROCID": "5",
    "SLURM_LOCALID": "1",
    "SLURM_STEP_NODELIST": "gpu[01-02]",
}


def test_distributed_settings_from_slurm():
    # one task per GPU, all GPUs of the node visible: JAX picks GPU SLURM_LOCALID
    s = parallel.distributed_settings(SLURM)
    assert s == dict(coordinator_address=None, num_processes=8, process_id=5, local_device_ids=None)
    # ... even when the job's gres lists them all in CUDA_VISIBLE_DEVICES
    s = parallel.distributed_settings({**SLURM, "CUDA_VISIBLE_DEVICES": "0,1,2,3"})
    assert s["local_device_ids"] is None
    # --gpus-per-task: SLURM restricted CUDA_VISIBLE_DEVICES to this task's GPUs
    s = parallel.distributed_settings({**SLURM, "SLURM_GPUS_PER_TASK": "1", "CUDA_VISIBLE_DEVICES": "1"})
    assert s["local_device_ids"] == [0]
    s = parallel.distributed_settings({**SLURM, "SLURM_GPUS_PER_TASK": "2", "CUDA_VISIBLE_DEVICES": "2,3"})
    assert s["local_device_ids"] == [0, 1]
    # one task per node with 4 GPUs: the process drives all of them
    per_node = {**SLURM, "SLURM_NTASKS": "2", "SLURM_PROCID": "1", "SLURM_LOCALID": "0"}
    s = parallel.distributed_settings({**per_node, "SLURM_NTASKS_PER_NODE": "1", "SLURM_GPUS_ON_NODE": "4"})
    assert (s["num_processes"], s["process_id"], s["local_device_ids"]) == (2, 1, [0, 1, 2, 3])
    # a single srun task, or no cluster at all: single-process
    assert parallel.distributed_settings({**SLURM, "SLURM_NTASKS": "1", "SLURM_PROCID": "0"}) is None
    assert parallel.distributed_settings({}) is None


def test_initialize_distributed_single_process_is_a_no_op():
    assert parallel.initialize_distributed({}) is False
    assert parallel.initialize_distributed({}, num_processes=1) is False
    assert parallel.process_count() == 1
