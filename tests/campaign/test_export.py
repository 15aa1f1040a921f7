import numpy as np
import pytest

from axojax.axon import OUTPUT_NAMES
from axojax.campaign import (
    read_lsdyna_curves,
    read_lsdyna_profiles,
    read_profiles_csv,
    read_profiles_npz,
    read_results,
    write_lsdyna_curves,
    write_profiles_csv,
    write_profiles_npz,
    write_results,
)


def _outputs(n=5):
    rng = np.random.default_rng(0)
    strains = rng.uniform(0.0, 0.2, (n, 2))
    pct = rng.uniform(0.0, 100.0, (n, 2))
    pct[0] = (0.0, 100.0)
    return np.concatenate([strains, pct], axis=-1)


# --- profiles
# ---------------------------------------------------------------------------------------------


def test_profiles_npz_round_trip(selection, tmp_path):
    t_s, profiles, ids = selection
    path = write_profiles_npz(tmp_path / "p.npz", t_s, profiles, ids)
    with np.load(path) as z:
        assert sorted(z.files) == ["ids", "strain", "t_s"]
    back = read_profiles_npz(path)
    np.testing.assert_array_equal(back.t_s, t_s)
    np.testing.assert_array_equal(back.strain, profiles)
    np.testing.assert_array_equal(back.ids, ids)
    no_ids = read_profiles_npz(write_profiles_npz(tmp_path / "q.npz", t_s, profiles))
    np.testing.assert_array_equal(no_ids.ids, -1)


def test_profiles_csv_round_trip_and_layout(selection, tmp_path):
    t_s, profiles, ids = selection
    profiles = profiles + 1e-3 * np.sin(np.arange(t_s.size) * 1.7)  # not exactly representable
    path = write_profiles_csv(tmp_path / "p.csv", t_s, profiles, ids)
    lines = path.read_text().splitlines()
    assert lines[0] == "id,impact,voxel,t_s,strain"
    assert len(lines) == 1 + profiles.size  # long table: one row per (profile, sample)
    first = lines[1 + t_s.size].split(",")  # profile 1, sample 0
    assert first[:3] == ["1", str(ids[1, 0]), str(ids[1, 1])]
    assert float(first[3]) == t_s[0] and float(first[4]) == profiles[1, 0]
    back = read_profiles_csv(path)
    np.testing.assert_array_equal(back.t_s, t_s)
    np.testing.assert_array_equal(back.strain, profiles)  # exact: 17 significant digits
    np.testing.assert_array_equal(back.ids, ids)
    # rows in another order and no origin columns read the same
    rows = [ln.split(",") for ln in lines[1:]]
    shuffled = [rows[i] for i in np.random.default_rng(1).permutation(len(rows))]
    other = tmp_path / "shuffled.csv"
    other.write_text("strain,t_s,id\n" + "".join(f"{r[4]},{r[3]},{r[0]}\n" for r in shuffled))
    back2 = read_profiles_csv(other)
    np.testing.assert_array_equal(back2.strain, profiles)
    np.testing.assert_array_equal(back2.ids, -1)


def test_profiles_csv_errors(selection, tmp_path):
    t_s, profiles, _ = selection
    good = write_profiles_csv(tmp_path / "p.csv", t_s, profiles[:2]).read_text().splitlines()
    cases = {
        "missing.csv": (["id,t_s,value"] + good[1:], r"missing.csv: missing column 'strain'"),
        "nan.csv": (good[:3] + ["0,-1,-1,0.004,nan"] + good[4:], r"nan.csv: column 'strain' has 1 NaN"),
        "short.csv": (good[:-1], r"short.csv: profile id 1 has 20 samples, profile 0 has 21"),
        "percent.csv": (good[:3] + ["0,-1,-1,0.004,5.0"] + good[4:], r"percent.csv: .*percentage"),
        "ids.csv": (
            [good[0]] + [ln.replace("1,", "2,", 1) if ln.startswith("1,") else ln for ln in good[1:]],
            r"ids.csv: column 'id' must number the profiles 0..N-1",
        ),
    }
    for name, (lines, match) in cases.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        with pytest.raises(ValueError, match=match):
            read_profiles_csv(tmp_path / name)
    with pytest.raises(ValueError, match="percentage"):
        write_profiles_csv(tmp_path / "x.csv", t_s, 100.0 * profiles)


def _parse_fixed_width(path):
    """Independent reading of the keyword layout: card 1 in 10-character fields, points in
    two 20-character fields."""
    curves, comment, lines = [], None, path.read_text().splitlines()
    assert lines[0] == "*KEYWORD" and lines[-1] == "*END"
    i = 0
    while i < len(lines):
        if lines[i].startswith("$ axojax id="):
            comment = lines[i]
        if lines[i] == "*DEFINE_CURVE":
            i += 1
            while lines[i].startswith("$"):
                i += 1
            card = lines[i]
            assert len(card) == 80
            fields = [card[k : k + 10] for k in range(0, 80, 10)]
            i += 1
            pts = []
            curves.append((comment, fields, pts))
            while not lines[i].startswith("*"):
                if lines[i].startswith("$ axojax id="):
                    comment = lines[i]  # belongs to the next curve
                elif not lines[i].startswith("$"):
                    assert len(lines[i]) == 40
                    pts.append((float(lines[i][:20]), float(lines[i][20:40])))
                i += 1
            continue
        i += 1
    return [(c, f, np.array(p)) for c, f, p in curves]


def test_lsdyna_keyword_fixed_width_fields(selection, tmp_path):
    t_s, profiles, ids = selection
    path = write_lsdyna_curves(tmp_path / "curves.k", t_s, profiles, ids, first_lcid=1001)
    curves = _parse_fixed_width(path)
    assert len(curves) == profiles.shape[0]
    for i, (comment, fields, pts) in enumerate(curves):
        assert comment == f"$ axojax id={i} impact={ids[i, 0]} voxel={ids[i, 1]}"
        assert int(fields[0]) == 1001 + i  # LCID, right-aligned I10
        assert fields[0] == str(1001 + i).rjust(10)
        assert int(fields[1]) == 0 and float(fields[2]) == 1.0 and float(fields[3]) == 1.0  # SIDR SFA SFO
        assert float(fields[4]) == 0.0 and float(fields[5]) == 0.0  # OFFA OFFO
        np.testing.assert_allclose(pts[:, 0], t_s * 1e3, rtol=1e-12, atol=1e-15)  # time in ms
        np.testing.assert_allclose(pts[:, 1], profiles[i], rtol=1e-12, atol=1e-15)  # strain fraction


def test_lsdyna_round_trip_and_units(selection, tmp_path):
    t_s, profiles, ids = selection
    profiles = profiles - 1e-3 * np.cos(np.arange(t_s.size) * 0.3)  # negative values too
    back = read_lsdyna_profiles(write_lsdyna_curves(tmp_path / "ms.k", t_s, profiles, ids))
    np.testing.assert_allclose(back.t_s, t_s, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(back.strain, profiles, rtol=1e-12, atol=1e-18)
    np.testing.assert_array_equal(back.ids, ids)
    # seconds written, SFA = 1000 makes LS-DYNA read ms
    path = write_lsdyna_curves(tmp_path / "s.k", t_s, profiles, time_unit="s", sfa=1000.0)
    curves = read_lsdyna_curves(path)
    assert curves[0].sfa == 1000.0 and curves[0].lcid == 1
    np.testing.assert_allclose(curves[0].abscissa, t_s, rtol=1e-12)
    back = read_lsdyna_profiles(path, time_unit="ms")
    np.testing.assert_allclose(back.t_s, t_s, rtol=1e-12, atol=1e-18)
    np.testing.assert_array_equal(back.ids, -1)
    # free-format (comma-separated) curves written by another tool, with a title card
    other = tmp_path / "free.k"
    other.write_text(
        "*KEYWORD\n*DEFINE_CURVE_TITLE\nfrom elsewhere\n$ lcid,sidr,sfa,sfo\n7,0,2.0,0.5\n"
        "0.0,0.0\n10.0,0.04\n20.0,0.08\n*END\n"
    )
    (curve,) = read_lsdyna_curves(other)
    assert (curve.lcid, curve.sfa, curve.sfo) == (7, 2.0, 0.5)
    back = read_lsdyna_profiles(other)
    np.testing.assert_allclose(back.t_s, [0.0, 0.02, 0.04])
    np.testing.assert_allclose(back.strain, [[0.0, 0.02, 0.04]])


def test_lsdyna_errors(selection, tmp_path):
    t_s, profiles, _ = selection
    path = write_lsdyna_curves(tmp_path / "c.k", t_s, profiles[:2])
    text = path.read_text().splitlines()
    k = text.index("*DEFINE_CURVE") + 4  # first point line
    bad = text[:k] + ["         abc         0.0"] + text[k + 1 :]
    (tmp_path / "bad.k").write_text("\n".join(bad))
    with pytest.raises(ValueError, match=rf"bad.k:{k + 1}: cannot read abscissa"):
        read_lsdyna_curves(tmp_path / "bad.k")
    grid = text[:k] + [text[k].replace("0.000000000000E+00", "1.000000000000E-03", 1)] + text[k + 1 :]
    (tmp_path / "grid.k").write_text("\n".join(grid))
    with pytest.raises(ValueError, match="another time grid"):
        read_lsdyna_profiles(tmp_path / "grid.k")
    (tmp_path / "empty.k").write_text("*KEYWORD\n*END\n")
    with pytest.raises(ValueError, match="no \\*DEFINE_CURVE"):
        read_lsdyna_profiles(tmp_path / "empty.k")
    with pytest.raises(ValueError, match="LCID"):
        write_lsdyna_curves(tmp_path / "u.k", t_s, profiles, first_lcid=10**10)


# --- results
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_results_round_trip(tmp_path, suffix):
    y = _outputs()
    ids = np.array([3, 0, 4, 1, 2])
    back = read_results(write_results(tmp_path / f"r{suffix}", y, ids), n_profiles=5)
    np.testing.assert_array_equal(back.ids, np.arange(5))
    np.testing.assert_array_equal(back.outputs, y[np.argsort(ids)])
    back = read_results(write_results(tmp_path / f"s{suffix}", y))
    np.testing.assert_array_equal(back.outputs, y)


def test_results_csv_layout(tmp_path):
    path = write_results(tmp_path / "r.csv", _outputs(2))
    assert path.read_text().splitlines()[0] == "id," + ",".join(OUTPUT_NAMES)
    # columns in any order, extra columns ignored
    (tmp_path / "o.csv").write_text(
        "nf_failure_pct,note,id,tau_failure_pct,peak_axolemma_strain,peak_mt_strain\n"
        "1.5,7,1,20,0.06,0.04\n0,7,0,0,0,0\n"
    )
    back = read_results(tmp_path / "o.csv", n_profiles=2)
    np.testing.assert_array_equal(back.outputs, [[0, 0, 0, 0], [0.04, 0.06, 20, 1.5]])


def _write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    "header, rows, n, match",
    [
        (
            ("id", "peak_mt_strain", "peak_axolemma_strain", "tau_failure_pct"),
            [(0, 0.1, 0.1, 5)],
            None,
            r"bad.csv: missing column 'nf_failure_pct'",
        ),
        (
            ("id", *OUTPUT_NAMES),
            [(0, 0.1, "nan", 5, 1), (1, 0.1, 0.1, 5, 1)],
            None,
            r"bad.csv: column 'peak_axolemma_strain' has 1 NaN/inf value\(s\), first at line 2",
        ),
        (
            ("id", *OUTPUT_NAMES),
            [(0, 0.1, 0.1, 5, 1), (1, 0.1, 0.1, 5, 1)],
            3,
            r"bad.csv: has 2 rows, expected 3",
        ),
        (
            ("id", *OUTPUT_NAMES),
            [(0, 0.1, 0.1, 5, 1), (1, 4.2, 0.1, 5, 1)],
            None,
            r"bad.csv: column 'peak_mt_strain' reaches 4.2 \(line 3\).*percentage",
        ),
        (
            ("id", *OUTPUT_NAMES),
            [(0, 0.1, 0.1, 105, 1)],
            None,
            r"bad.csv: column 'tau_failure_pct' has 105 .*0-100",
        ),
        (("id", *OUTPUT_NAMES), [(0, 0.1, 0.1, 5, -2)], None, r"bad.csv: column 'nf_failure_pct' has -2"),
        (
            ("id", *OUTPUT_NAMES),
            [(0, 0.1, 0.1, 5, 1), (0, 0.1, 0.1, 5, 1)],
            None,
            r"bad.csv: column 'id' repeats id 0",
        ),
        (
            ("id", *OUTPUT_NAMES),
            [(0, 0.1, 0.1, 5, 1), (2, 0.1, 0.1, 5, 1)],
            2,
            r"bad.csv: column 'id' must hold 0..1",
        ),
        (("id", *OUTPUT_NAMES), [(0.5, 0.1, 0.1, 5, 1)], None, r"bad.csv: column 'id' must hold integers"),
        (("id", *OUTPUT_NAMES), [(0, 0.1, 0.1, 5)], None, r"bad.csv: 4 values per row, but 5 header columns"),
    ],
)
def test_results_csv_errors(tmp_path, header, rows, n, match):
    path = _write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(ValueError, match=match):
        read_results(path, n_profiles=n)


def test_results_npz_errors(tmp_path):
    y = _outputs(3)
    cols = {"id": np.arange(3), **{k: y[:, j] for j, k in enumerate(OUTPUT_NAMES)}}
    np.savez(tmp_path / "missing.npz", **{k: v for k, v in cols.items() if k != "tau_failure_pct"})
    with pytest.raises(ValueError, match=r"missing.npz: missing column 'tau_failure_pct'"):
        read_results(tmp_path / "missing.npz")
    np.savez(tmp_path / "pct.npz", **{**cols, "peak_axolemma_strain": 100.0 * y[:, 1] + 2.0})
    with pytest.raises(ValueError, match=r"pct.npz: column 'peak_axolemma_strain' reaches .*row 0"):
        read_results(tmp_path / "pct.npz")
    np.savez(tmp_path / "shape.npz", **{**cols, "nf_failure_pct": y[:2, 3]})
    with pytest.raises(ValueError, match=r"shape.npz: column 'nf_failure_pct' has shape \(2,\)"):
        read_results(tmp_path / "shape.npz")
    with pytest.raises(ValueError, match=r"unknown results format '.txt'"):
        read_results(tmp_path / "r.txt")
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_results(tmp_path / "nope.csv")
