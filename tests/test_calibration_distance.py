"""calibration.distance: tape, mirror and the blind-spot virtual chinrest (Li et al. 2020)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calibration import CalibrationError
from calibration.distance import (
    ViewingDistance,
    distance_from_blind_spot,
    distance_from_mirror,
    distance_from_tape,
)

TAN_13_5 = math.tan(math.radians(13.5))


def test_tape_distance():
    distance = distance_from_tape(2000)
    assert distance == ViewingDistance(2000.0, "tape", False)
    assert distance.viewing_distance_mm == 2000.0
    assert not distance.mirrored


@pytest.mark.parametrize("distance_mm", [250, 400, 1500, 3000, 6000, 8000])
def test_tape_accepts_the_plausible_range(distance_mm):
    assert distance_from_tape(distance_mm).viewing_distance_mm == distance_mm


@pytest.mark.parametrize("distance_mm, words", [(2, "millimetres"), (200, "closer than 250"), (9000, "beyond 8000")])
def test_tape_refuses_implausible_distances(distance_mm, words):
    with pytest.raises(CalibrationError, match=words):
        distance_from_tape(distance_mm)


@pytest.mark.parametrize("bad", [0, -2000, math.nan, math.inf, "2000", None, True])
def test_tape_refuses_non_numbers(bad):
    with pytest.raises(CalibrationError, match="distance_mm"):
        distance_from_tape(bad)


def test_mirror_doubles_the_optical_path_and_mirrors():
    distance = distance_from_mirror(1500)
    assert distance.viewing_distance_mm == 3000.0
    assert distance.method == "mirror"
    assert distance.mirrored is True


def test_mirror_refuses_what_puts_the_optical_path_out_of_range():
    with pytest.raises(CalibrationError, match="stand between 125 and 4000 mm"):
        distance_from_mirror(4500)
    with pytest.raises(CalibrationError, match="patient_to_mirror_mm"):
        distance_from_mirror(-1)


def test_blind_spot_is_offset_over_tan_13_5():
    # Li et al. 2020: at 53 cm the dot vanishes 127.2 mm from fixation.
    offsets = [530 * TAN_13_5] * 5
    distance = distance_from_blind_spot(offsets)
    assert distance.viewing_distance_mm == pytest.approx(530.0)
    assert distance.method == "blind_spot"
    assert not distance.mirrored


def test_blind_spot_uses_the_mean_of_the_sweeps():
    offsets = [120.0, 125.0, 130.0, 128.0, 122.0]
    assert distance_from_blind_spot(offsets).viewing_distance_mm == pytest.approx(125.0 / TAN_13_5)


def test_blind_spot_needs_at_least_three_sweeps():
    with pytest.raises(CalibrationError, match="at least 3 sweeps"):
        distance_from_blind_spot([125.0, 126.0])
    assert distance_from_blind_spot([125.0, 126.0, 124.0]).viewing_distance_mm == pytest.approx(125.0 / TAN_13_5)


def test_blind_spot_refuses_sweeps_that_disagree():
    # One press 22% short of the other four: CV 10.3%, above the 10% accepted.
    with pytest.raises(CalibrationError, match="sweeps disagree.*repeat"):
        distance_from_blind_spot([100.0, 100.0, 100.0, 100.0, 78.0])
    # 20% short: CV 9.3%, accepted.
    assert distance_from_blind_spot([100.0, 100.0, 100.0, 100.0, 80.0]).method == "blind_spot"


def test_blind_spot_refuses_distances_beyond_desk_range():
    with pytest.raises(CalibrationError, match="beyond the 700 mm.*tape"):
        distance_from_blind_spot([750 * TAN_13_5] * 5)
    assert distance_from_blind_spot([690 * TAN_13_5] * 5).viewing_distance_mm == pytest.approx(690)
    with pytest.raises(CalibrationError, match="sit further back"):
        distance_from_blind_spot([200 * TAN_13_5] * 5)


@pytest.mark.parametrize(
    "bad", [[125.0, -1.0, 125.0], [125.0, math.nan, 125.0], [125.0, "125", 125.0], "125,125,125", 125.0]
)
def test_blind_spot_refuses_malformed_offsets(bad):
    with pytest.raises(CalibrationError, match="offsets_mm"):
        distance_from_blind_spot(bad)


@given(
    st.floats(min_value=300, max_value=650),
    st.lists(st.floats(min_value=-0.02, max_value=0.02), min_size=5, max_size=5),
)
def test_blind_spot_recovers_the_distance_from_noisy_sweeps(distance_mm, noise):
    # 2% noise per sweep keeps the mean within 2%, inside 250..700 mm from these distances.
    offsets = [distance_mm * TAN_13_5 * (1 + e) for e in noise]
    measured = distance_from_blind_spot(offsets).viewing_distance_mm
    assert measured == pytest.approx(distance_mm, rel=0.0201)


def test_viewing_distance_record_is_consistent_and_round_trips():
    distance = distance_from_mirror(2000)
    assert distance.to_dict() == {"viewing_distance_mm": 4000.0, "method": "mirror", "mirrored": True}
    assert ViewingDistance.from_dict(distance.to_dict()) == distance
    tape = distance_from_tape(400)
    assert ViewingDistance.from_dict(tape.to_dict()) == tape


def test_viewing_distance_record_refuses_contradictions():
    with pytest.raises(CalibrationError, match="only the mirror method"):
        ViewingDistance(3000.0, "tape", True)
    with pytest.raises(CalibrationError, match="only the mirror method"):
        ViewingDistance(3000.0, "mirror", False)
    with pytest.raises(CalibrationError, match="unknown distance method"):
        ViewingDistance(3000.0, "webcam", False)
    with pytest.raises(CalibrationError, match="true or false"):
        ViewingDistance(3000.0, "tape", 0)
    with pytest.raises(CalibrationError, match="missing mirrored"):
        ViewingDistance.from_dict({"viewing_distance_mm": 3000.0, "method": "tape"})
    with pytest.raises(CalibrationError, match="beyond 8000"):
        ViewingDistance.from_dict({"viewing_distance_mm": 30000.0, "method": "tape", "mirrored": False})
