import json

import nibabel as nib
import numpy as np
import pytest

from axojax.brain import brain_from_mask
from axojax.surrogate import OUTPUT_NAMES
from axojax.wholebrain import read_label_atlas, read_map, read_maps, write_maps

from .conftest import small_affine


@pytest.fixture
def brain():
    mask = np.zeros((6, 7, 5), bool)
    mask[1:5, 2:6, 1:4] = True
    mask[2, 3, 2] = False
    return brain_from_mask(mask, small_affine(), np.tile([0.0, 1.0, 0.0], (int(mask.sum()), 1)))


def test_write_read_round_trip(tmp_path, brain):
    rng = np.random.default_rng(1)
    values = rng.uniform(0.01, 1.0, size=(brain.n_voxels, 4)).astype(np.float32)
    paths = write_maps(tmp_path / "maps", brain, values)
    assert list(paths) == list(OUTPUT_NAMES)
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == sorted(
        f"{n}.nii.gz" for n in OUTPUT_NAMES
    )
    for j, name in enumerate(OUTPUT_NAMES):
        vol, affine = read_map(paths[name])
        assert vol.dtype == np.float32 and nib.load(paths[name]).get_data_dtype() == np.float32
        np.testing.assert_array_equal(vol, brain.to_volume(values[:, j]))  # zero outside white matter
        np.testing.assert_allclose(affine, np.asarray(brain.affine), atol=1e-6)
    np.testing.assert_array_equal(read_maps(tmp_path / "maps", brain), values)
    # rewriting replaces atomically and leaves no temporaries
    write_maps(tmp_path / "maps", brain, 2 * values)
    np.testing.assert_array_equal(read_maps(tmp_path / "maps", brain), 2 * values)
    assert len(list((tmp_path / "maps").iterdir())) == 4


def test_write_errors(tmp_path, brain):
    values = np.zeros((brain.n_voxels, 4), np.float32)
    with pytest.raises(ValueError, match="shape"):
        write_maps(tmp_path, brain, values[:5])
    with pytest.raises(ValueError, match="names"):
        write_maps(tmp_path, brain, values, names=("a", "b", "c"))
    with pytest.raises(ValueError, match="file-name"):
        write_maps(tmp_path, brain, values, names=("a", "b", "c", "../d"))
    with pytest.raises(ValueError, match="NaN"):
        write_maps(tmp_path, brain, np.full_like(values, np.nan))
    with pytest.raises(FileNotFoundError):
        read_map(tmp_path / "missing.nii.gz")


def save_labels(path, data, affine):
    nib.save(nib.Nifti1Image(data, affine), path)
    return path


def test_label_atlas(tmp_path, brain):
    grid = brain.mask.shape
    data = np.zeros(grid, np.int16)
    data[:3] = 2
    data[3:] = 5
    path = save_labels(tmp_path / "atlas.nii.gz", data, small_affine())
    ijk = np.asarray(brain.voxel_ijk)
    atlas = read_label_atlas(path, brain, names={2: "left part", 5: "right part"})
    np.testing.assert_array_equal(atlas.labels, data[ijk[:, 0], ijk[:, 1], ijk[:, 2]])
    assert atlas.names == {2: "left part", 5: "right part"} and atlas.source == str(path)
    (tmp_path / "names.json").write_text(json.dumps({"2": "a", "5": "b"}))
    assert read_label_atlas(path, brain, names=tmp_path / "names.json").names == {2: "a", 5: "b"}
    (tmp_path / "lut.txt").write_text("# label name r g b\n0 Unknown 0 0 0\n2 a 1 2 3\n5 b 4 5 6\n")
    assert read_label_atlas(path, brain, names=tmp_path / "lut.txt").names == {2: "a", 5: "b"}
    assert read_label_atlas(path, brain).names == {}
    # float storage of integral labels is fine, fractions are not
    floats = save_labels(tmp_path / "float.nii.gz", data.astype(np.float32), small_affine())
    np.testing.assert_array_equal(read_label_atlas(floats, brain).labels, atlas.labels)
    frac = save_labels(tmp_path / "frac.nii.gz", data.astype(np.float32) + 0.5, small_affine())
    with pytest.raises(ValueError, match="integers"):
        read_label_atlas(frac, brain)


def test_label_atlas_grid_mismatch(tmp_path, brain):
    grid = brain.mask.shape
    wrong_grid = save_labels(tmp_path / "grid.nii.gz", np.zeros((6, 7, 6), np.int16), small_affine())
    with pytest.raises(ValueError, match=r"grid\.nii\.gz.*\(6, 7, 6\).*need shape \(6, 7, 5\)"):
        read_label_atlas(wrong_grid, brain)
    shifted = small_affine()
    shifted[0, 3] += 2.0
    wrong_affine = save_labels(tmp_path / "affine.nii.gz", np.zeros(grid, np.int16), shifted)
    with pytest.raises(ValueError, match=r"affine\.nii\.gz: affine differs.*need shape \(6, 7, 5\)"):
        read_label_atlas(wrong_affine, brain)
    with pytest.raises(ValueError, match="3-D"):
        read_label_atlas(
            save_labels(tmp_path / "4d.nii.gz", np.zeros((*grid, 2), np.int16), small_affine()), brain
        )
    bad_names = tmp_path / "bad.txt"
    bad_names.write_text("2\n")
    ok = save_labels(tmp_path / "ok.nii.gz", np.zeros(grid, np.int16), small_affine())
    with pytest.raises(ValueError, match="bad.txt"):
        read_label_atlas(ok, brain, names=bad_names)
