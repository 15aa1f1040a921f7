"""The bad-input corpus: every damaged or inconsistent input file ends in one `axojax: error:` line
naming the file and what was expected, exit status 2, no traceback."""

import gzip
import io

import nibabel as nib
import numpy as np
import pytest
import scipy.io

from axojax.brain import default_brain
from axojax.cli import main

from .conftest import pulse_record, write_mat

GOOD_T, GOOD_W, GOOD_A = pulse_record(2000.0, 10.0, (0.0, 0.0, 1.0), 30.0, record_ms=100.0)


def _mat_bytes(**variables) -> bytes:
    buf = io.BytesIO()
    scipy.io.savemat(buf, variables)
    return buf.getvalue()


def _struct(**fields):
    rec = np.zeros((1, 1), dtype=[(k, "O") for k in fields])
    rec[0, 0] = tuple(fields.values())
    return rec


def _csv(header: str, rows) -> bytes:
    return (header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n").encode()


def _good_csv() -> bytes:
    return _csv("t,wx,wy,wz,ax,ay,az", np.column_stack([GOOD_T, GOOD_W, GOOD_A]))


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _nii(data, affine=None) -> bytes:
    img = nib.Nifti1Image(np.asarray(data, np.float32), np.eye(4) if affine is None else affine)
    return gzip.compress(img.to_bytes())


BRAIN = default_brain(12.0)
AFFINE = np.asarray(BRAIN.affine, np.float64)
MASK = np.asarray(BRAIN.mask).astype(np.float32)
NOISE = np.random.default_rng(0).integers(0, 256, 600, dtype=np.uint8).tobytes()
T100 = np.arange(100) * 1e-3

# (file name, bytes, study-file lines it is used by, text the error must hold)
KINEMATICS = [
    ("truncated.mat", _mat_bytes(impact=_struct(t=GOOD_T, ang_vel=GOOD_W))[:150], "MAT file"),
    ("noise.mat", NOISE, "not a readable MAT file"),
    ("no_impact.mat", _mat_bytes(kin=_struct(t=GOOD_T)), "no variable 'impact'"),
    ("wrong_shape.mat", _mat_bytes(impact=_struct(t=GOOD_T, ang_vel=GOOD_W[:, :2])), "must have shape"),
    ("no_ang_vel.mat", _mat_bytes(impact=_struct(t=GOOD_T, ang_acc=GOOD_A)), "lacks field 'ang_vel'"),
    ("empty.csv", b"", "empty file"),
    ("header_only.csv", b"t,wx,wy,wz\n", "no data rows"),
    ("bad_column.csv", _csv("t,speed,wy,wz", [[0, 0, 0, 0], [0.001, 1, 1, 1]]), "unknown column 'speed'"),
    ("text.csv", b"t,wx,wy,wz\n0,0,0,0\n0.001,a,b,c\n", "could not parse numbers"),
    ("nan.csv", _csv("t,wx,wy,wz", [[0, 0, 0, 0], [0.001, "nan", 0, 0]]), "NaN"),
    ("unsorted.csv", _csv("t,wx,wy,wz", [[0.002, 0, 0, 0], [0.001, 1, 1, 1]]), "strictly increasing"),
    ("milliseconds.csv", _csv("t,wx,wy,wz", np.column_stack([GOOD_T * 1e3, GOOD_W])), "is time in ms"),
    ("truncated.npz", _npz(t=GOOD_T, ang_vel=GOOD_W)[:200], "NPZ file"),
    ("noise.npz", NOISE, "not a readable NPZ file"),
    ("no_t.npz", _npz(ang_vel=GOOD_W), "missing array 't'"),
]
BRAIN_FILES = [
    ("wm_noise.nii.gz", NOISE, "mask", "cannot read white-matter mask"),
    ("wm_truncated.nii.gz", _nii(MASK, AFFINE)[:300], "mask", "cannot read white-matter mask"),
    ("wm_4d.nii.gz", _nii(MASK[..., None].repeat(2, -1), AFFINE), "mask", "need a 3-D white-matter map"),
    ("v1_other_grid.nii.gz", _nii(np.ones((5, 5, 5, 3)), AFFINE), "v1", "field V1 needs shape"),
    ("v1_misses_mask.nii.gz", _nii(np.zeros(MASK.shape + (3,)), AFFINE), "v1", "zero-length at"),
]
STRAIN_FILES = [
    (
        "strain_truncated.npz",
        _npz(coords_mm=np.zeros((2, 3)), t_s=T100, strain=np.zeros((2, 100, 6)))[:300],
        "NPZ",
    ),
    (
        "strain_outside.npz",
        _npz(coords_mm=np.full((2, 3), 500.0), t_s=T100, strain=np.zeros((2, 100, 6))),
        "farther than",
    ),
    ("strain_4d.nii.gz", _nii(np.zeros((4, 4, 4, 6))), "must be 5-D (x, y, z, t, 6)"),
    ("strain_noise.nii.gz", NOISE, "not a readable NIfTI file"),
    ("d3plot", NOISE, "not a readable LS-DYNA d3plot file"),
]


def _study(tmp_path, lines: str, brain: str = "[brain]\nresolution_mm = 12\n") -> str:
    (tmp_path / "kin").mkdir(exist_ok=True)
    (tmp_path / "kin" / "a.csv").write_bytes(_good_csv())
    (tmp_path / "kin" / "b.csv").write_bytes(_good_csv())
    path = tmp_path / "study.toml"
    path.write_text('preset = "tiny"\n' + brain + lines)
    return str(path)


def _one_error_line(capsys, expect: list[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("axojax: error:")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    for text in expect:
        assert text in errors[0], (text, errors[0])
    return errors[0]


@pytest.mark.parametrize("name, data, expect", KINEMATICS, ids=[c[0] for c in KINEMATICS])
def test_bad_kinematics_file(tmp_path, capsys, name, data, expect):
    (tmp_path / name).write_bytes(data)
    cfg = _study(tmp_path, f'[impacts]\nsource = "{name}"\n')
    assert main(["run", "--config", cfg, "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys, [name, expect])


@pytest.mark.parametrize("name, data, role, expect", BRAIN_FILES, ids=[c[0] for c in BRAIN_FILES])
def test_bad_mask_or_fibers(tmp_path, capsys, name, data, role, expect):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "wm.nii.gz").write_bytes(_nii(MASK, AFFINE))
    mask = name if role == "mask" else "wm.nii.gz"
    fibers = "" if role == "mask" else f'[fibers]\nsource = "v1"\npath = "{name}"\nconvention = "world"\n'
    brain = f'[brain]\nmask = "{mask}"\nresolution_mm = 0\n'
    cfg = _study(tmp_path, fibers + '[impacts]\nsource = "kin"\n', brain)
    assert main(["run", "--config", cfg, "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys, [name, expect])


@pytest.mark.parametrize("name, data, expect", STRAIN_FILES, ids=[c[0] for c in STRAIN_FILES])
def test_bad_strain_file(tmp_path, capsys, name, data, expect):
    (tmp_path / "strain").mkdir()
    (tmp_path / "strain" / name).write_bytes(data)
    cfg = _study(
        tmp_path,
        '[impacts]\nsource = "kin"\n[tissue]\nmodel = "import"\n'
        f'strain = "strain/{name}"\nfallback = "reduced"\n',
    )
    assert main(["run", "--config", cfg, "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys, [name, expect])


def test_bad_study_file_and_multi_impact_mat_for_predict(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[impacts\n")
    assert main(["run", "--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, ["bad.toml", "not a valid TOML"])
    cfg = _study(tmp_path, '[sampling]\nn_train = "lots"\n')
    assert main(["run", "--config", cfg, "--out", str(tmp_path / "o")]) == 2
    _one_error_line(capsys, ["study.toml", "sampling.n_train: expected an integer"])
    write_mat(tmp_path / "two.mat", [(GOOD_T, GOOD_W, GOOD_A)] * 2)
    assert (
        main(
            [
                "predict",
                "--model",
                str(tmp_path / "no_model"),
                "--impact",
                str(tmp_path / "two.mat"),
                "--out",
                str(tmp_path / "p"),
            ]
        )
        == 2
    )
    _one_error_line(capsys, ["no_model"])
