"""The sliding falx (`FEHeadModel(falx="sliding")`): a rigid dural partition inside the skull that the brain
slides along through the subarachnoid layer, as along the skull."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
from fe_helpers import small_head, wm_points

from axojax.headmodel import FEHeadModel, FEMaterial, VoxelMesh
from axojax.headmodel import _fe_solver as fe
from axojax.headmodel._fe_mesh import _phi_at, skull_distance
from axojax.headmodel._fe_model import skull_layer
from axojax.kinematics import half_sine_pulse

H = 4.0  # mm
SLAB = 6  # the partition's cell column (first axis)


def slab_head() -> tuple[np.ndarray, np.ndarray]:
    """A 11^3-cell brain box in a 13^3 grid with a one-cell-thick partition on x = SLAB from the skull's
    front to back and from the top down to z = 5 cells: (labels with the partition as outside, partition)."""
    lab = np.zeros((13, 13, 13), np.int32)
    lab[1:12, 1:12, 1:12] = 3
    part = np.zeros(lab.shape, bool)
    part[SLAB, 1:12, 5:12] = True
    lab[part] = 0
    return lab, part


def test_partition_faces_are_a_zero_level_and_the_partition_survives_the_smoothing():
    """phi = minus the distance to the partition's face near it (away from the skull), positive inside
    it (the envelope's Gaussian of sigma h / 2 alone would erase a one-cell partition: phi < 0 there)."""
    lab, part = slab_head()
    inside = lab > 0
    phi, origin, s = skull_distance(inside, H, partition=part)
    face = SLAB * H  # the partition's -x face, node frame [mm]
    d = np.array([0.5, 1.0, 2.0, 3.0, 5.0])
    pts = np.stack([face - d, np.full(d.size, 6.5 * H), np.full(d.size, 8.0 * H)])
    val, grad = _phi_at(phi, origin, s, pts)
    assert np.all(np.abs(val + d) <= 0.15 + 0.07 * d), val  # one fine voxel's Gaussian; the |grad| <= 1 scale
    assert np.all((grad[0] > 0.8) & (grad[0] <= 1.0)), grad[0]  # the ridge inside, 2 mm from the face
    np.testing.assert_allclose(grad[1:], 0.0, atol=0.02)
    centre = _phi_at(phi, origin, s, np.array([[face + 0.5 * H], [6.5 * H], [8.0 * H]]))[0]
    assert centre[0] > 0.5
    plain = skull_distance(inside | part, H)  # the partition as brain: no surface there
    assert _phi_at(*plain, np.array([[face + 0.5 * H], [6.5 * H], [8.0 * H]]))[0][0] < -10.0


def test_the_layer_holds_the_partition_faces_in_shear_and_in_the_normal_direction():
    """Nodes on the partition's faces are layer nodes with area h^2; sliding them along the face stores
    k_t |u|^2 / 2 per area (the layer's shear), pushing them into it k_n g^2 / 2 with g ~ the push."""
    lab, part = slab_head()
    mesh = VoxelMesh(jnp.asarray(lab), jnp.zeros(3, jnp.float64), H, 3.0)
    layer = skull_layer(mesh, jnp.float64, partition=part)
    node_shape = tuple(n + 1 for n in lab.shape)
    jj, kk = np.meshgrid(np.arange(4, 10), np.arange(7, 10), indexing="ij")
    face = np.ravel_multi_index((np.full(jj.size, SLAB), jj.ravel(), kk.ravel()), node_shape)
    pos = np.searchsorted(np.asarray(layer.node), face)
    assert np.array_equal(np.asarray(layer.node)[pos], face)
    np.testing.assert_allclose(np.asarray(layer.area)[pos], H**2, rtol=1e-12)
    stiff = FEMaterial().interface(3.0, jnp.float64)
    kn, kt = float(stiff.normal_stiffness), float(stiff.shear_stiffness)

    def energy(direction, amount):
        u = np.zeros((3, *node_shape))
        u.reshape(3, -1)[:, face] = np.asarray(direction, float)[:, None] * amount
        return float(fe.layer_energy(layer, stiff, jnp.asarray(u)))

    area = face.size * H**2
    for direction in ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)):
        assert energy(direction, 0.8) == pytest.approx(0.5 * kt * 0.8**2 * area, rel=2e-3)
    push = energy((1.0, 0.0, 0.0), 0.05)  # into the partition
    # g / push = |grad phi| at the face, 0.8-1 (the rounded ridge at the partition's centre, 2 mm away)
    assert 0.8**2 < push / (0.5 * kn * 0.05**2 * area) <= 1.0 + 1e-3
    with pytest.raises(ValueError, match="partition"):
        skull_layer(VoxelMesh(jnp.asarray(np.where(part, 3, lab)), jnp.zeros(3), H, 3.0), partition=part)


def test_sliding_falx_model_frees_the_brain_at_the_falx():
    """`falx="sliding"`: the falx cells become skull (label 0), its faces join the layer, the brain nodes
    where the falx met the skull move (fixed with the anchored falx), and a pulse's strain is finite."""
    base = small_head()
    layered = VoxelMesh(base.labels, base.origin_mm, base.element_size_mm, 3.0)
    mat = FEMaterial(bulk_modulus_mpa=2.19)
    sliding = FEHeadModel(layered, mat, centre_mm=(0.0, 0.0, 0.0), falx="sliding", time_step="element")
    lab = np.asarray(base.labels)
    assert sliding.falx == "sliding" and not sliding.anchor_falx
    assert not np.any(np.asarray(sliding.mesh.labels) == 4)
    assert np.array_equal(np.asarray(sliding.mesh.labels) > 0, (lab > 0) & (lab != 4))
    anchored_layer = skull_layer(layered, jnp.float64)
    assert sliding.layer.node.size > anchored_layer.node.size
    # nodes of a falx cell that touches the skull and of a brain cell: fixed when anchored
    falx_nodes = np.asarray(fe._node_any(jnp.asarray(lab == 4)))
    brain_nodes = np.asarray(fe._node_any(jnp.asarray((lab > 0) & (lab != 4))))
    fixed = ~np.asarray(fe.free_node_mask(jnp.asarray(lab), interface=True, anchor_falx=True))
    junction = falx_nodes & brain_nodes & fixed
    assert junction.any()
    imp = half_sine_pulse(4000.0, 10.0, (0.0, 0.0, 1.0), window_ms=30.0)
    t = jnp.asarray(imp.t_s[:9], jnp.float64)
    a = jnp.asarray(imp.ang_acc_rad_s2[:9], jnp.float64) * 1e-2
    motion = eqx.filter_jit(sliding.motion)(t, a)
    mag = np.linalg.norm(np.asarray(motion), axis=1).max(axis=0)
    assert mag[junction].max() > 0.1 * mag.max() > 0.0
    e = np.asarray(sliding.strain_from_motion(motion, jnp.asarray(wm_points(base))))
    assert np.all(np.isfinite(e)) and np.abs(e).max() > 0.0
    with pytest.raises(ValueError, match="falx"):
        FEHeadModel(layered, mat, falx="loose")
    with pytest.raises(ValueError, match="subarachnoid"):
        FEHeadModel(base, mat, falx="sliding")
