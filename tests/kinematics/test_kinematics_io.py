import numpy as np
import pytest
import scipy.io

from axojax.kinematics import half_sine_pulse, load_impact, load_impacts


def _pulse(amp=2000.0, axis=(0.0, 1.0, 0.0)):
    imp = half_sine_pulse(amp, 10.0, axis, dt_ms=1.0, window_ms=40.0, onset_ms=5.0)
    return np.asarray(imp.t_s), np.asarray(imp.ang_vel_rad_s), np.asarray(imp.ang_acc_rad_s2)


def _write_csv(path, table, header="t,wx,wy,wz,ax,ay,az"):
    np.savetxt(path, table, delimiter=",", header=header, comments="")


def test_mat_round_trip_several(tmp_path):
    t, w, a = _pulse()
    t2, w2, a2 = _pulse(500.0, (1.0, 0.0, 0.0))
    lin = np.ones_like(w)
    rec = np.zeros((1, 2), dtype=[("t", "O"), ("ang_vel", "O"), ("ang_acc", "O"), ("lin_acc_CG", "O")])
    rec[0, 0] = (t[:, None], w, a, lin)
    rec[0, 1] = (t2[:, None], w2, a2, lin)
    path = tmp_path / "impacts.mat"
    scipy.io.savemat(path, {"impact": rec})
    impacts = load_impacts(path)
    assert len(impacts) == 2
    np.testing.assert_allclose(impacts[0].ang_acc_rad_s2, a)
    np.testing.assert_allclose(impacts[1].ang_vel_rad_s, w2)
    np.testing.assert_allclose(impacts[0].lin_acc_m_s2, lin)
    np.testing.assert_allclose(impacts[1].t_s, t2)
    with pytest.raises(ValueError, match="holds 2 impacts"):
        load_impact(path)


def test_mat_scalar_struct_and_missing_field(tmp_path):
    t, w, a = _pulse()
    path = tmp_path / "one.mat"
    scipy.io.savemat(path, {"impact": {"t": t, "ang_vel": w.T, "ang_acc": a}})
    imp = load_impact(path)  # (3, T) is transposed
    np.testing.assert_allclose(imp.ang_vel_rad_s, w)
    bad = tmp_path / "bad.mat"
    scipy.io.savemat(bad, {"impact": {"t": t, "ang_acc": a}})
    with pytest.raises(ValueError, match=r"bad\.mat.*'ang_vel'"):
        load_impact(bad)
    other = tmp_path / "other.mat"
    scipy.io.savemat(other, {"kin": {"t": t}})
    with pytest.raises(ValueError, match="no variable 'impact'"):
        load_impact(other)


def test_csv_round_trip_and_derived_acc(tmp_path):
    t, w, a = _pulse()
    path = tmp_path / "hit.csv"
    _write_csv(path, np.column_stack([t, w, a]))
    imp = load_impact(path)
    np.testing.assert_allclose(imp.ang_acc_rad_s2, a)
    assert imp.name == "hit"
    # ω only: α by central differences (exact where ω is locally quadratic; close elsewhere)
    fine = half_sine_pulse(2000.0, 10.0, (0.0, 0.0, 1.0), dt_ms=0.1, window_ms=40.0, onset_ms=5.0)
    path4 = tmp_path / "w_only.csv"
    _write_csv(path4, np.column_stack([fine.t_s, fine.ang_vel_rad_s]), "t,wx,wy,wz")
    imp4 = load_impact(path4)
    np.testing.assert_allclose(imp4.ang_acc_rad_s2, fine.ang_acc_rad_s2, atol=0.02 * 2000.0)


def test_npz_round_trip(tmp_path):
    t, w, a = _pulse()
    path = tmp_path / "hit.npz"
    np.savez(path, t=t, ang_vel=w, ang_acc=a)
    imp = load_impact(path)
    np.testing.assert_allclose(imp.ang_vel_rad_s, w)
    np.testing.assert_allclose(imp.t_s, t)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda t, w, a: (t, np.degrees(w) * 20, a), "ang_vel.*deg/s"),
        (lambda t, w, a: (t * 1e3, w, a), "'t'.*ms"),
        (lambda t, w, a: (t[::-1].copy(), w, a), "'t'.*increasing"),
        (
            lambda t, w, a: (t, w, np.where(np.arange(a.size).reshape(a.shape) == 7, np.nan, a)),
            "'ang_acc'.*NaN",
        ),
        (lambda t, w, a: (t, w, np.degrees(a) * 20), "ang_acc.*deg/s"),
    ],
)
def test_npz_bad_values(tmp_path, mutate, match):
    t, w, a = mutate(*_pulse())
    path = tmp_path / "bad.npz"
    np.savez(path, t=t, ang_vel=w, ang_acc=a)
    with pytest.raises(ValueError, match=match):
        load_impact(path)


def test_csv_bad_columns_and_suffix(tmp_path):
    t, w, a = _pulse()
    path = tmp_path / "five.csv"
    _write_csv(path, np.column_stack([t, w, a[:, 0]]), "t,wx,wy,wz,ax")
    with pytest.raises(ValueError, match=r"five\.csv.*columns"):
        load_impact(path)
    path = tmp_path / "names.csv"
    _write_csv(path, np.column_stack([t, w]), "t,x,y,z")
    with pytest.raises(ValueError, match="unknown column .x."):
        load_impact(path)
    path = tmp_path / "noheader.csv"
    np.savetxt(path, np.column_stack([t, w, a]), delimiter=",")
    with pytest.raises(ValueError, match="missing header"):
        load_impact(path)
    (tmp_path / "hit.txt").write_text("t,wx,wy,wz\n")
    with pytest.raises(ValueError, match="unknown suffix"):
        load_impact(tmp_path / "hit.txt")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_impact(tmp_path / "missing.csv")


def test_csv_alias_headers_any_order_and_units(tmp_path):
    from axojax.kinematics import load_impact

    t, w, a = _pulse()
    ref = load_impact(_csv(tmp_path / "ref.csv", np.column_stack([t, w, a]), "t,wx,wy,wz,ax,ay,az"))
    cases = {
        "alias.csv": ("Time,ANG_VEL_X,ang_vel_y,ang_vel_z,alpha_x,alpha_y,alpha_z", 1.0, 1.0, 1.0),
        "omega.csv": ("t, omega_x, omega_y, omega_z, ang_acc_x, ang_acc_y, ang_acc_z", 1.0, 1.0, 1.0),
        "units.csv": (
            "time [ms],wx (deg/s),wy (deg/s),wz (deg/s),ax [krad/s^2],ay [krad/s^2],az [krad/s^2]",
            1e3,
            180.0 / np.pi,
            1e-3,
        ),
        "suffix.csv": (
            "time_ms,wx_deg_s,wy_deg_s,wz_deg_s,ax_rad_s2,ay_rad_s2,az_rad_s2",
            1e3,
            180.0 / np.pi,
            1.0,
        ),
    }
    for name, (header, ts, ws, as_) in cases.items():
        imp = load_impact(_csv(tmp_path / name, np.column_stack([t * ts, w * ws, a * as_]), header))
        np.testing.assert_allclose(imp.t_s, ref.t_s, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(imp.ang_vel_rad_s, ref.ang_vel_rad_s, rtol=1e-9, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(imp.ang_acc_rad_s2, ref.ang_acc_rad_s2, rtol=1e-9, atol=1e-9, err_msg=name)
    # columns in another order, semicolons, units from the argument when the header names none
    path = tmp_path / "semi.csv"
    table = np.column_stack([a, t * 1e3, w * 180.0 / np.pi])
    np.savetxt(path, table, delimiter=";", header="ax;ay;az;t;wx;wy;wz", comments="")
    imp = load_impact(path, units={"t": "ms", "ang_vel": "deg/s"})
    np.testing.assert_allclose(imp.ang_vel_rad_s, ref.ang_vel_rad_s, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(imp.t_s, ref.t_s, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown unit 'furlong/s'"):
        load_impact(_csv(tmp_path / "u.csv", np.column_stack([t, w]), "t,wx [furlong/s],wy,wz"))
    with pytest.raises(ValueError, match="ang_acc.*needs all three"):
        load_impact(_csv(tmp_path / "two.csv", np.column_stack([t, w, a[:, :2]]), "t,wx,wy,wz,ax,ay"))


def _csv(path, table, header):
    _write_csv(path, table, header)
    return path


def test_impact_set_from_folder_glob_and_multi_impact_mat(tmp_path):
    from axojax.kinematics import load_impact_set

    t, w, a = _pulse()
    rec = np.zeros((1, 2), dtype=[("t", "O"), ("ang_vel", "O"), ("ang_acc", "O")])
    rec[0, 0] = (t[:, None], w, a)
    rec[0, 1] = (t[:, None], 0.5 * w, 0.5 * a)
    scipy.io.savemat(tmp_path / "season.mat", {"impact": rec})
    _write_csv(tmp_path / "hit_a.csv", np.column_stack([t, w, a]))
    np.savez(tmp_path / "hit_b.npz", t=t, ang_vel=w)
    (tmp_path / "notes.txt").write_text("not an impact")
    every = load_impact_set(tmp_path)
    assert list(every) == ["hit_a", "hit_b", "season[0]", "season[1]"]
    np.testing.assert_allclose(every["season[1]"].ang_acc_rad_s2, 0.5 * a)
    assert list(load_impact_set(tmp_path / "hit_*")) == ["hit_a", "hit_b"]
    assert list(load_impact_set(tmp_path / "season.mat")) == ["season[0]", "season[1]"]
    with pytest.raises(FileNotFoundError, match="matches no file"):
        load_impact_set(tmp_path / "nothing_*.csv")
