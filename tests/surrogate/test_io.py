import json

import numpy as np
import pytest

from axojax.surrogate import SurrogateConfig, load_surrogate, predict, read_metadata, save_surrogate

from .conftest import CONFIG, DT_S, N_TRAIN, T

META = {"axon_preset": "male", "axon_params": {"tau_relaxation_ms": 5.0, "mt_youngs_modulus_gpa": 1.7}}


@pytest.fixture(scope="module")
def checkpoint(trained, tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "surrogate"
    save_surrogate(path, trained[0], META)
    return path


def _metadata_file(path):
    f = path / "metadata" / "metadata"  # orbax JsonSave layout
    assert f.is_file()
    return f


def test_round_trip_identical_predictions(trained, axon_data, checkpoint):
    model, _ = trained
    x = axon_data[0][N_TRAIN:]
    loaded, meta = load_surrogate(checkpoint, n_time=T, dt_s=DT_S, config=CONFIG)
    assert meta == META
    assert loaded.config == CONFIG
    np.testing.assert_array_equal(predict(loaded, x), predict(model, x))
    np.testing.assert_array_equal(
        np.asarray(loaded.max_abs_strain[...]), np.asarray(model.max_abs_strain[...])
    )
    full = read_metadata(checkpoint)
    assert full["n_time"] == T and full["dt_s"] == DT_S and full["config"]["channels"] == [8, 16, 32]


def test_save_refuses_existing_dir(trained, checkpoint):
    with pytest.raises(FileExistsError):
        save_surrogate(checkpoint, trained[0])


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no surrogate checkpoint"):
        load_surrogate(tmp_path / "nope")


def test_incompatible_expectations(checkpoint):
    with pytest.raises(ValueError, match="T=64"):
        load_surrogate(checkpoint, n_time=100)
    with pytest.raises(ValueError, match="dt="):
        load_surrogate(checkpoint, dt_s=2e-3)
    # the step of a float32 time grid is the same grid
    dt32 = float(np.diff(np.arange(3, dtype=np.float32) * np.float32(DT_S))[0])
    assert dt32 != DT_S
    load_surrogate(checkpoint, dt_s=dt32)
    with pytest.raises(ValueError, match="architecture"):
        load_surrogate(checkpoint, config=SurrogateConfig(n_time=T, dt_s=DT_S))


def _tampered(checkpoint, tmp_path, change):
    import shutil

    path = tmp_path / "tampered"
    shutil.copytree(checkpoint, path)
    f = _metadata_file(path)
    meta = json.loads(f.read_text())
    change(meta)
    f.write_text(json.dumps(meta))
    return path


def test_incompatible_architecture_in_checkpoint(checkpoint, tmp_path):
    path = _tampered(checkpoint, tmp_path, lambda m: m["config"].update(channels=[8, 16, 64]))
    with pytest.raises(ValueError, match="does not fit architecture"):
        load_surrogate(path)


def test_incompatible_version(checkpoint, tmp_path):
    path = _tampered(checkpoint, tmp_path, lambda m: m.update(axojax_version="9.0.0"))
    with pytest.raises(ValueError, match="axojax 9.0.0"):
        load_surrogate(path)
