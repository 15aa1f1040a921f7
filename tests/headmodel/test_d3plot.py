"""LS-DYNA d3plot strain import, on fixtures written by lasso-python's own writer."""

import builtins

import numpy as np
import pytest

from axojax.headmodel.io import load_d3plot_strain, tensor_to_voigt

lasso_dyna = pytest.importorskip("lasso.dyna")
A = lasso_dyna.ArrayType

# xx, yy, zz, xy, yz, xz (tensor shear components)
VOIGT = np.array([0.01, 0.02, -0.015, 0.005, 0.003, -0.002])
N_STATES = 6
DT_MS = 0.5


def _mesh():
    """Two unit hexahedra (10 mm) side by side along x and one tetrahedron (degenerate solid)."""
    nodes = np.array(
        [[x, y, z] for z in (0.0, 10.0) for y in (0.0, 10.0) for x in (0.0, 10.0, 20.0)] + [[0.0, 0.0, 30.0]]
    )

    def nid(i, j, k):
        return 6 * k + 3 * j + i

    hexes = [
        [nid(e, 0, 0), nid(e + 1, 0, 0), nid(e + 1, 1, 0), nid(e, 1, 0),
         nid(e, 0, 1), nid(e + 1, 0, 1), nid(e + 1, 1, 1), nid(e, 1, 1)]
        for e in range(2)
    ]  # fmt: skip
    # the tetrahedron repeats its apex in slots 4-8: its centroid averages 4 nodes, not 8 slots
    tet = [nid(0, 0, 1), nid(1, 0, 1), nid(0, 1, 1), 12, 12, 12, 12, 12]
    centroids = np.array([[5.0, 5.0, 5.0], [15.0, 5.0, 5.0], [2.5, 2.5, 15.0]])
    return nodes, np.array(hexes + [tet]), centroids


def _write(path, *, n_layers=1, strain=True):
    """A d3plot with a uniform strain history E(t) = (t / t_end) VOIGT; layers differ by
    ±0.001 around it, so only their mean is the true value. Returns (times [ms], strain)."""
    nodes, conn, _ = _mesh()
    n_solids = conn.shape[0]
    d3 = lasso_dyna.D3plot()
    d3.arrays[A.node_coordinates] = nodes
    d3.arrays[A.element_solid_node_indexes] = conn
    d3.arrays[A.element_solid_part_indexes] = np.zeros(n_solids, dtype=np.int32)
    t_ms = np.arange(N_STATES) * DT_MS
    d3.arrays[A.global_timesteps] = t_ms
    d3.arrays[A.node_displacement] = np.repeat(nodes[None], N_STATES, axis=0)
    # lasso's writer always writes the 7 basic solid variables (stress, plastic strain) but flags
    # them only when these arrays exist; nonzero values also catch a misaligned read.
    d3.arrays[A.element_solid_stress] = np.full((N_STATES, n_solids, n_layers, 6), 0.7)
    d3.arrays[A.element_solid_effective_plastic_strain] = np.full((N_STATES, n_solids, n_layers), 0.3)
    history = (t_ms / t_ms[-1])[:, None] * VOIGT  # (T, 6)
    if strain:
        spread = 0.001 * (np.arange(n_layers) - (n_layers - 1) / 2)
        layers = history[:, None, None, :] + spread[None, None, :, None]
        d3.arrays[A.element_solid_strain] = np.broadcast_to(layers, (N_STATES, n_solids, n_layers, 6)).copy()
    d3.write_d3plot(str(path))
    return t_ms, history


@pytest.mark.parametrize("n_layers", [1, 8])
def test_round_trip_uniform_strain(tmp_path, n_layers):
    path = tmp_path / "d3plot"
    t_ms, history = _write(path, n_layers=n_layers)
    out = load_d3plot_strain(path)
    assert out.strain.shape == (3, N_STATES, 3, 3)
    assert out.strain.dtype == np.float64
    assert out.grid_shape is None
    np.testing.assert_allclose(out.t_s, t_ms * 1e-3)
    np.testing.assert_allclose(out.coords_mm, _mesh()[2], atol=1e-5)
    np.testing.assert_array_equal(out.strain, np.swapaxes(out.strain, -1, -2))
    for v in range(3):
        np.testing.assert_allclose(tensor_to_voigt(out.strain[v]), history, atol=1e-7)
    # shear components are used as written (tensor E_ij, not halved)
    np.testing.assert_allclose(out.strain[0, -1, 0, 1], VOIGT[3], atol=1e-7)
    np.testing.assert_allclose(out.strain[0, -1, 1, 2], VOIGT[4], atol=1e-7)
    np.testing.assert_allclose(out.strain[0, -1, 0, 2], VOIGT[5], atol=1e-7)


def test_units_and_no_centroids(tmp_path):
    path = tmp_path / "d3plot"
    t_ms, _ = _write(path)
    out = load_d3plot_strain(path, element_centroids=False, time_unit_s=1.0e-6, length_unit_mm=1e3)
    np.testing.assert_allclose(out.t_s, t_ms * 1e-6)
    assert np.isnan(out.coords_mm).all() and out.coords_mm.shape == (3, 3)
    out = load_d3plot_strain(path, length_unit_mm=1e3)
    np.testing.assert_allclose(out.coords_mm, 1e3 * _mesh()[2], rtol=1e-6)
    with pytest.raises(ValueError, match="wrong time unit"):
        load_d3plot_strain(path, time_unit_s=10.0)


def test_missing_strain_names_file_and_field(tmp_path):
    path = tmp_path / "d3plot"
    _write(path, strain=False)
    with pytest.raises(ValueError, match="element_solid_strain") as err:
        load_d3plot_strain(path)
    assert str(path) in str(err.value)
    assert "STRFLG" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_d3plot_strain(tmp_path / "nothing")


def test_missing_lasso_gives_install_hint(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "lasso.dyna" or name.startswith("lasso"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r'pip install "axojax\[d3plot\]"'):
        load_d3plot_strain(tmp_path / "d3plot")
