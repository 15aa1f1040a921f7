import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.brain import brain_from_mask
from axojax.fiberstrain import ProfileDataset, build_profiles

T = 12
T_S = np.linspace(0.0, 0.055, T)  # 55 ms
AXIS = np.array([0.0, 0.6, 0.8])  # stretch direction of the synthetic head model


@pytest.fixture
def tiny_brain():
    """4 x 4 x 4 grid, 32 voxels, identity affine, two fiber populations per voxel."""
    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[:, 1:, 1:] = True
    mask[0, 1:3, 1:3] = False
    n = int(mask.sum())
    rng = np.random.default_rng(0)
    dirs = rng.normal(size=(n, 2, 3))
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    weights = np.tile([3.0, 1.0], (n, 1))
    return brain_from_mask(mask, np.eye(4), dirs, weights)


def amplitude(impact):
    """Peak stretch strain of an impact, a smooth pulse in time."""
    return impact["peak"] * np.sin(np.pi * T_S / T_S[-1]) ** 2


def uniaxial_strain_fn(impact, coords_mm):
    """Green-Lagrange E(t) = a(t) u u^T along AXIS, scaled by (1 + x / 10) across the brain."""
    a = jnp.asarray(amplitude(impact), dtype=coords_mm.dtype)
    scale = 1.0 + coords_mm[:, 0] / 10.0
    uu = jnp.asarray(np.outer(AXIS, AXIS), dtype=coords_mm.dtype)
    return scale[:, None, None, None] * a[None, :, None, None] * uu[None, None]


def expected_profiles(brain, impacts):
    dirs = np.asarray(brain.fiber_dir, dtype=np.float64)
    w = np.asarray(brain.fiber_weight, dtype=np.float64)
    cos2 = np.einsum("vk,vk->v", w, np.einsum("vki,i->vk", dirs, AXIS) ** 2)
    scale = 1.0 + np.asarray(brain.coords_mm)[:, 0] / 10.0
    return np.stack([(scale * cos2)[:, None] * amplitude(imp)[None] for imp in impacts.values()])


IMPACTS = {"nfl_01": {"peak": 0.04}, "lab_7": {"peak": 0.10}}


def test_build_and_read_round_trip(tmp_path, tiny_brain):
    store = tmp_path / "profiles"
    meta = {"nfl_01": {"source": "synthetic", "peak_rad_s2": 4000.0}}
    ds = build_profiles(
        uniaxial_strain_fn, IMPACTS, tiny_brain, store, t_s=T_S, chunk_voxels=16, metadata=meta
    )
    n = tiny_brain.n_voxels
    assert ds.shape == (2, n, T) and ds.n_chunks == -(-n // 16) and ds.is_complete
    expect = expected_profiles(tiny_brain, IMPACTS)
    np.testing.assert_allclose(ds.to_array(), expect, atol=1e-6)
    # lazy reads: by impact (name or index) and by voxel chunk, memory-mapped chunk files
    reopened = ProfileDataset.open(store)
    chunk = reopened.read_chunk("lab_7", 1)
    assert isinstance(chunk, np.memmap) and chunk.dtype == np.float32
    np.testing.assert_allclose(reopened.read_impact(1), expect[1], atol=1e-6)
    np.testing.assert_allclose(reopened.read_voxel_chunk(1), expect[:, 16:32], atol=1e-6)
    np.testing.assert_allclose(reopened.t_s, T_S)
    np.testing.assert_array_equal(reopened.cube_id, np.asarray(tiny_brain.cube_id))
    np.testing.assert_allclose(reopened.coords_mm, np.asarray(tiny_brain.coords_mm))
    assert reopened.impact_names == ("nfl_01", "lab_7")
    assert reopened.metadata["nfl_01"]["peak_rad_s2"] == 4000.0 and reopened.metadata["lab_7"] == {}
    manifest = json.loads((store / "manifest.json").read_text())
    assert manifest["quantity"] == "fiber_strain" and manifest["n_voxels"] == n


def test_resume_after_partial_write(tmp_path, tiny_brain):
    store = tmp_path / "profiles"
    build_profiles(uniaxial_strain_fn, IMPACTS, tiny_brain, store, t_s=T_S, chunk_voxels=16)
    ds = ProfileDataset.open(store)
    ds.chunk_path("lab_7", 1).unlink()  # a crash before this chunk was written ...
    stray = store / ".impact00001_chunk00001.npy.123.abcd.tmp"
    stray.write_bytes(b"half a file")  # ... while the next one was being written
    assert ds.missing_chunks() == [(1, 1)] and not ds.is_complete
    with pytest.raises(FileNotFoundError, match="chunk not written yet"):
        ds.read_impact("lab_7")
    calls = []

    def counting_strain_fn(impact, coords_mm):
        calls.append(impact["peak"])
        return uniaxial_strain_fn(impact, coords_mm)

    ds = build_profiles(counting_strain_fn, IMPACTS, tiny_brain, store, t_s=T_S, chunk_voxels=16)
    assert calls == [0.10] and ds.is_complete and not stray.exists()
    np.testing.assert_allclose(ds.to_array(), expected_profiles(tiny_brain, IMPACTS), atol=1e-6)
    with pytest.raises(ValueError, match="field impact_names of the existing store"):
        build_profiles(
            uniaxial_strain_fn,
            {"other": {"peak": 0.1}},
            tiny_brain,
            store,
            t_s=T_S,
            chunk_voxels=16,
        )
    with pytest.raises(ValueError, match="field chunk_voxels of the existing store"):
        build_profiles(uniaxial_strain_fn, IMPACTS, tiny_brain, store, t_s=T_S, chunk_voxels=8)


def test_excluded_voxels_are_stored_with_their_chunk_and_survive_a_resume(tmp_path, tiny_brain):
    """A head model's flags (e.g. FE points in an inverted element) are written before each chunk, read back
    per impact, and rewritten with the chunk when a killed build resumes."""
    store = tmp_path / "profiles"
    coords = np.asarray(tiny_brain.coords_mm)
    flagged = {"nfl_01": np.zeros(tiny_brain.n_voxels, bool), "lab_7": coords[:, 0] + coords[:, 1] > 5.0}

    def flags_fn(impact, coords_mm):
        c = np.asarray(coords_mm)
        return np.zeros(c.shape[0], bool) if impact["peak"] < 0.05 else c[:, 0] + c[:, 1] > 5.0

    ds = build_profiles(
        uniaxial_strain_fn, IMPACTS, tiny_brain, store, t_s=T_S, chunk_voxels=16, excluded_fn=flags_fn
    )
    assert 0 < flagged["lab_7"].sum() < tiny_brain.n_voxels
    for name, expect in flagged.items():
        np.testing.assert_array_equal(ProfileDataset.open(store).excluded(name), expect)
    assert not list(store.glob("impact00000_*_excluded.npy"))  # no file where nothing is flagged
    np.testing.assert_allclose(ds.to_array(), expected_profiles(tiny_brain, IMPACTS), atol=1e-6)
    for c in range(ds.n_chunks):  # a kill lost lab_7's chunks and flags
        ds.chunk_path("lab_7", c).unlink()
        ds.excluded_path("lab_7", c).unlink(missing_ok=True)
    ds = build_profiles(
        uniaxial_strain_fn, IMPACTS, tiny_brain, store, t_s=T_S, chunk_voxels=16, excluded_fn=flags_fn
    )
    np.testing.assert_array_equal(ds.excluded("lab_7"), flagged["lab_7"])
    with pytest.raises(ValueError, match="excluded_fn gave shape"):
        build_profiles(
            uniaxial_strain_fn,
            IMPACTS,
            tiny_brain,
            tmp_path / "other",
            t_s=T_S,
            chunk_voxels=16,
            excluded_fn=lambda impact, c: np.zeros(3, bool),
        )


def test_stretch_quantity(tmp_path, tiny_brain):
    ds = build_profiles(
        uniaxial_strain_fn,
        IMPACTS,
        tiny_brain,
        tmp_path / "s",
        t_s=T_S,
        chunk_voxels=64,
        quantity="fiber_stretch_minus_one",
    )
    eps = expected_profiles(tiny_brain, IMPACTS)
    np.testing.assert_allclose(ds.to_array(), np.sqrt(1.0 + 2.0 * eps) - 1.0, atol=1e-6)
    assert ds.n_chunks == 1 and ds.quantity == "fiber_stretch_minus_one"


def _bad_fn(kind):
    def fn(impact, coords_mm):
        e = uniaxial_strain_fn(impact, coords_mm)
        if kind == "percent":
            return 100.0 * e
        if kind == "nan":
            return e.at[0, 3, 0, 0].set(jnp.nan)
        if kind == "shape":
            return e[:, :-1]
        if kind == "asym":
            return e.at[:, :, 0, 1].add(0.01)
        raise AssertionError(kind)

    return fn


@pytest.mark.parametrize(
    "kind, match",
    [
        ("percent", r"impact 'nfl_01' chunk 0: field strain reaches \|E\| = .* percent"),
        ("nan", "field strain from strain_fn contains NaN"),
        ("shape", r"field strain from strain_fn has shape \(64, 11, 3, 3\), need \(64, 12, 3, 3\)"),
        ("asym", "field strain is not symmetric"),
    ],
)
def test_bad_strain_is_rejected(tmp_path, tiny_brain, kind, match):
    with pytest.raises(ValueError, match=match):
        build_profiles(_bad_fn(kind), IMPACTS, tiny_brain, tmp_path / kind, t_s=T_S, chunk_voxels=64)


@pytest.mark.parametrize(
    "t_s, match",
    [
        (T_S[::-1], "field t_s must be strictly increasing"),
        (np.r_[T_S[:3], T_S[2:]], "field t_s must be strictly increasing"),
        (T_S * 1000.0, "milliseconds passed as seconds"),
        (np.r_[T_S[:-1], np.nan], "field t_s contains NaN"),
    ],
)
def test_bad_time_grid(tmp_path, tiny_brain, t_s, match):
    with pytest.raises(ValueError, match=match):
        build_profiles(uniaxial_strain_fn, IMPACTS, tiny_brain, tmp_path / "t", t_s=t_s)


def test_store_argument_errors(tmp_path, tiny_brain):
    coords = np.asarray(tiny_brain.coords_mm)
    cubes = np.asarray(tiny_brain.cube_id)
    with pytest.raises(ValueError, match="field impact_names must be non-empty and unique"):
        ProfileDataset.create(
            tmp_path / "a", t_s=T_S, coords_mm=coords, cube_id=cubes, impact_names=["x", "x"]
        )
    with pytest.raises(ValueError, match="field cube_id shape"):
        ProfileDataset.create(
            tmp_path / "b", t_s=T_S, coords_mm=coords, cube_id=cubes[:-1], impact_names=["x"]
        )
    with pytest.raises(ValueError, match="field metadata is not JSON-serialisable"):
        ProfileDataset.create(
            tmp_path / "c",
            t_s=T_S,
            coords_mm=coords,
            cube_id=cubes,
            impact_names=["x"],
            metadata={"x": {"a": jax}},
        )
    ds = ProfileDataset.create(tmp_path / "d", t_s=T_S, coords_mm=coords, cube_id=cubes, impact_names=["x"])
    with pytest.raises(ValueError, match="field profiles need shape"):
        ds.write_chunk("x", 0, np.zeros((3, T)))
    with pytest.raises(FileNotFoundError, match="no fiber strain store"):
        ProfileDataset.open(tmp_path / "nothing")
