import dataclasses
import json
import tomllib

import pytest

from axojax.pipeline import RunConfig, config_from_dict, load_config, template_toml
from axojax.pipeline._check import check_config


def test_template_reads_back_as_the_default_and_follows_the_preset(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(template_toml())
    assert load_config(path) == RunConfig.preset_config("default")
    path.write_text(template_toml().replace('preset = "default"', 'preset = "tiny"'))
    assert load_config(path) == RunConfig.preset_config("tiny")
    # flags win over the file
    c = load_config(path, overrides={"seed": 5, "preset": "female", "scale": "paper"})
    assert (c.seed, c.preset, c.n_impacts) == (5, "female", 45)


def test_keys_map_to_fields_and_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "kin").mkdir()
    (tmp_path / "kin" / "a.csv").write_text("t,wx,wy,wz\n0,0,0,0\n0.001,0,0,1\n")
    (tmp_path / "mask.nii.gz").write_bytes(b"")
    text = """
preset = "tiny"
[impacts]
source = "kin/*.csv"
held_out = "random"
ang_vel_unit = "deg/s"
[kinematics]
window_ms = 120
filter = "butterworth"
[tissue]
model = "import"
strain = "fe/{name}.npz"
fallback = "reduced"
[brain]
mask = "mask.nii.gz"
resolution_mm = 0
[sampling]
lc_sizes = [20, 40]
augment_scale = [0.9, 1.1]
[maps]
impacts = "all"
"""
    c = config_from_dict(tomllib.loads(text), where="s.toml", base_dir=tmp_path)
    assert c.impacts == str(tmp_path / "kin/*.csv") and c.held_out == "random"
    assert c.window_ms == 120.0 and c.kinematics_filter == "butterworth" and c.ang_vel_unit == "deg/s"
    assert c.strain_files == str(tmp_path / "fe/{name}.npz") and c.strain_fallback == "reduced"
    assert c.brain_mask == str(tmp_path / "mask.nii.gz") and c.resolution_mm == 0.0
    assert c.lc_sizes == (20, 40) and c.augment_scale == (0.9, 1.1) and c.map_impacts == "all"
    assert c.n_train == RunConfig.preset_config("tiny").n_train
    assert [p.name for p in c.input_files()] == ["a.csv", "mask.nii.gz"]


@pytest.mark.parametrize(
    "text, expect",
    [
        ("[impacts]\nsorce = 'x'", r"s\.toml: unknown key \[impacts\] sorce \(known: source,"),
        ("[sampler]\nn_train = 3", r"s\.toml: unknown table \[sampler\]"),
        ("colour = 1", r"s\.toml: unknown key colour"),
        ("[sampling]\nn_train = 'many'", r"s\.toml: sampling\.n_train: expected an integer, got 'many'"),
        ("[sampling]\nn_train = 2.5", r"sampling\.n_train: expected an integer"),
        ("[surrogate]\nlearning_rate = true", r"surrogate\.learning_rate: expected a number"),
        ("[sampling]\naugment_scale = [1, 2, 3]", r"augment_scale: expected a list of two numbers"),
        ("[surrogate]\nchannels = [4.5]", r"surrogate\.channels: expected a list of integers"),
        ("[fibers]\nresample = 1", r"fibers\.resample: expected true or false"),
        ("[tissue]\nmodel = 'magic'", r"tissue_model must be one of \('reduced', 'fe', 'import'\)"),
        ("[tissue]\nmodel = 'import'", r"needs strain_files"),
        ("preset = 'huge'", r"preset: expected one of"),
        (
            "[impacts]\nsource = 'missing/*.mat'",
            r"impacts\.source: .*missing/\*\.mat: the pattern matches no file",
        ),
        ("[brain]\nmask = 'nope.nii.gz'", r"brain\.mask: .*nope\.nii\.gz: no such file"),
        ("[impacts]\nang_vel_unit = 'knots'", r"unknown unit 'knots'"),
        ("[kinematics]\nwindow_ms = 100.5", r"window_ms=100.5 must be a multiple of dt_ms"),
    ],
)
def test_bad_study_files_name_the_key(tmp_path, text, expect):
    with pytest.raises(ValueError, match=expect):
        config_from_dict(tomllib.loads(text), where="s.toml", base_dir=tmp_path)


def test_invalid_toml_and_missing_study_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[impacts\nsource = ")
    with pytest.raises(ValueError, match=r"bad\.toml: not a valid TOML"):
        load_config(bad)
    with pytest.raises(ValueError, match=r"none\.toml: no such study file"):
        load_config(tmp_path / "none.toml")


def test_a_folder_from_before_the_study_keys_resumes(tmp_path):
    config = RunConfig.preset_config("tiny")
    old = {k: v for k, v in config.to_dict().items() if k not in ("impacts", "tissue_model", "window_ms")}
    (tmp_path / "config.json").write_text(json.dumps(old))
    check_config(tmp_path, config)  # the keys it lacks hold their defaults: same run
    with pytest.raises(ValueError, match="tissue_model"):
        check_config(tmp_path, dataclasses.replace(config, tissue_model="import", strain_files="x"))


def test_an_fe_folder_from_before_the_surface_key_is_a_staircase_run(tmp_path):
    """An FE run folder written before `tissue.surface` ran on the staircase mesh: it resumes as such, and a
    rerun with the (new default) smooth surface is refused instead of mixing two meshes in one store."""
    config = RunConfig.preset_config("tiny", tissue_model="fe", element_size_mm=6.0)
    old = {k: v for k, v in config.to_dict().items() if k != "fe_surface"}
    (tmp_path / "config.json").write_text(json.dumps(old))
    check_config(tmp_path, dataclasses.replace(config, fe_surface="staircase"))
    with pytest.raises(ValueError, match="fe_surface"):
        check_config(tmp_path, config)
    text = '[tissue]\nmodel = "fe"\nsurface = "staircase"\n'
    assert config_from_dict(tomllib.loads(text), where="s.toml").fe_surface == "staircase"
    assert RunConfig().fe_surface == "smooth"
