"""Issue 27: roof faces found from the surface model, checked against roofs whose faces
are known (tests/solar/synthetic_roofs.py), at turned azimuths."""

from __future__ import annotations

import numpy as np
import pytest

from layers.solar.faces import OBSTACLE, FaceRules, roof_faces
from tests.solar import synthetic_roofs as S

SHAPES = {
    "pignon": S.gable,
    "croupe": S.hip,
    "appentis": S.shed,
    "mansarde": S.mansard,
    "plat": S.flat_with_parapet,
    "L": S.l_shape,
    "lucarne": S.dormer,
}
TURNS = [0.0, 23.0, 137.0, 250.0]
SMALL_M2 = 10.0  # below, a face is a few dozen pixels: its area is judged in pixels


def _matched(truth, found):
    """Each true face (≥ the smallest face) → the found face covering most of it."""
    pairs = {}
    for k in range(len(truth.slope)):
        mine = truth.face == k
        if mine.sum() * S.CELL**2 < FaceRules().min_face_m2:
            continue
        labels, counts = np.unique(found.labels[mine], return_counts=True)
        pairs[k] = int(labels[np.argmax(counts)])
    return pairs


@pytest.mark.parametrize("turn", TURNS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_face_is_found_with_its_slope_azimuth_and_area(shape, turn):
    truth = SHAPES[shape](turn)
    found = roof_faces(truth.z, truth.ids, S.CELL)
    pairs = _matched(truth, found)
    assert all(label > 0 for label in pairs.values()), f"face manquée : {pairs}"
    assert len(set(pairs.values())) == len(pairs), "deux faces vraies en une"
    assert len(found) == len(pairs), f"{len(found)} faces trouvées pour {len(pairs)}"
    for k, label in pairs.items():
        i = label - 1
        assert abs(found.slope[i] - truth.slope[k]) < 1.0
        if np.isnan(truth.azimuth[k]):
            assert np.isnan(found.azimuth[i])
        else:
            assert abs((found.azimuth[i] - truth.azimuth[k] + 180) % 360 - 180) < 3.0
        true_area = truth.area(k)
        if true_area >= SMALL_M2:
            assert abs(found.area_m2[i] - true_area) <= 0.03 * true_area
        else:
            pixel = S.CELL**2 / np.cos(np.radians(truth.slope[k]))
            assert abs(found.area_m2[i] - true_area) <= 2 * pixel
        assert found.residual_m[i] < 0.05
        assert found.roof[i] == 1


@pytest.mark.parametrize("turn", TURNS)
def test_a_flat_roof_keeps_its_parapet_and_obstacles_out(turn):
    truth = S.flat_with_parapet(turn)
    found = roof_faces(truth.z, truth.ids, S.CELL)
    obstacles = (truth.ids > 0) & (truth.face == -1)
    assert (found.labels[obstacles] == OBSTACLE).all()  # parapet, chimney, HVAC, skylight
    assert (found.labels[truth.face == 0] == 1).all()
    assert len(found) == 1 and np.isnan(found.azimuth[0]) and found.slope[0] < 3


def test_faces_survive_the_noise_of_a_real_survey():
    """LiDAR HD heights scatter by a few centimetres: a 3 cm noise keeps both faces."""
    truth = S.gable(23.0)
    rng = np.random.default_rng(62)
    noisy = truth.z + rng.normal(0, 0.03, truth.z.shape)
    found = roof_faces(noisy, truth.ids, S.CELL)
    pairs = _matched(truth, found)
    assert len(found) == 2 and sorted(pairs.values()) == [1, 2]
    for k, label in pairs.items():
        assert abs(found.slope[label - 1] - 35.0) < 1.0
        assert abs((found.azimuth[label - 1] - truth.azimuth[k] + 180) % 360 - 180) < 3.0
        assert abs(found.area_m2[label - 1] - truth.area(k)) <= 0.05 * truth.area(k)


def test_two_roofs_side_by_side_never_share_a_face():
    """Faces grow inside one footprint: two sheds of the same plane, two roofs, two faces."""
    truth = S.shed(0.0, length=16, width=6)
    ids = truth.ids.copy()
    cols = np.nonzero(ids.any(axis=0))[0]
    ids[:, cols[len(cols) // 2] :] *= 2  # the east half is another building
    found = roof_faces(truth.z, ids, S.CELL)
    assert len(found) == 2 and sorted(found.roof.tolist()) == [1, 2]


def test_a_building_on_the_ground_of_the_surface_model_is_unseen():
    """Item 7: a footprint where the DSM shows the ground (built after the survey) is
    unseen; a house, a low garage and a half-hidden roof are seen; a footprint with no
    measured pixel (a LiDAR hole) is not judged (it is « sans données »)."""
    from layers.solar.faces import UNSEEN_SHARE, unseen_by_lidar

    ground = np.full((40, 40), 30.0)
    z = ground.copy()
    ids = np.zeros((40, 40), dtype=np.int64)
    ids[2:10, 2:10] = 1  # a house, 7 m
    z[2:10, 2:10] += 7.0
    ids[2:10, 20:28] = 2  # new: the DSM is the ground (+ a few cm of noise)
    z[2:10, 20:28] += np.random.default_rng(1).normal(0, 0.05, (8, 8))
    ids[20:30, 2:10] = 3  # a garage, 2,5 m
    z[20:30, 2:10] += 2.5
    ids[20:30, 20:30] = 4  # a roof of which only 40 % stands above the footprint's edge
    z[20:24, 20:30] += 5.0
    ids[32:38, 32:38] = 5  # a hole in the survey
    z[32:38, 32:38] = np.nan
    unseen = unseen_by_lidar(z, ground, ids, 5, 2.0)
    assert list(unseen) == [False, True, False, False, False]
    # the threshold is a share: a roof under it is unseen
    z[20:30, 20:30] = ground[20:30, 20:30]
    z[20:22, 20:30] += 5.0  # 20 %
    assert 0.2 < UNSEEN_SHARE and unseen_by_lidar(z, ground, ids, 5, 2.0)[3]
