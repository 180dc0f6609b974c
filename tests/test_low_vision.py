"""Low vision in the acuity core: the distance ladder, the categories below the chart, and the
adaptive procedure moving the patient closer (acuity.low_vision, acuity.procedure.DistanceStep)."""

from __future__ import annotations

import numpy as np
import pytest

from acuity import simulate
from acuity.low_vision import CATEGORIES, closer_distances_mm, describe_low_vision, logmar_shift, vision_category
from acuity.procedure import DistanceStep, ProcedureConfig, ProcedureError, replay
from acuity.procedures import AdaptiveProcedure, ChartProcedure, ManualProcedure


def test_the_ladder_halves_the_distance_down_to_50_cm():
    assert closer_distances_mm(4000) == (2000, 1000, 500)
    assert closer_distances_mm(3000) == (1500, 750, 500)
    assert closer_distances_mm(500) == ()
    assert logmar_shift(4000, 1000) == pytest.approx(0.602, abs=1e-3)


def test_categories_carry_their_conventional_equivalents_and_none_for_light():
    assert CATEGORIES["CF"].logmar_equivalent == 1.98
    assert CATEGORIES["HM"].logmar_equivalent == 2.28
    assert CATEGORIES["LP"].logmar_equivalent is None
    assert CATEGORIES["NLP"].logmar_equivalent is None
    with pytest.raises(ValueError, match="choose one of CF, HM, LP, NLP"):
        vision_category("6/60")
    words = describe_low_vision(distance_mm=1000, moved=True, category=CATEGORIES["LP"], category_distance_mm=None)
    assert words["text"] == "Light perception (LP) · no logMAR equivalent"
    assert words["distance_text"] == "measured at 1 m"
    cf = describe_low_vision(distance_mm=4000, moved=False, category=CATEGORIES["CF"], category_distance_mm=1000)
    assert cf["text"] == "Counting fingers (CF) at 1 m · logMAR equivalent 1.98" and cf["distance_text"] is None


def _low_vision_run(threshold: float, seed: int):
    config = simulate.low_vision_config("sloan")
    observer = simulate.SimulatedObserver(threshold, 0.07, 0.1)
    procedure = AdaptiveProcedure(config, seed)
    result, distance = simulate.run_low_vision_test(procedure, observer, np.random.default_rng(seed))
    return procedure, result, distance


def test_an_eye_of_1_3_is_moved_to_1_m_and_measured_there():
    results = []
    for seed in range(8):
        procedure, result, distance = _low_vision_run(1.3, seed)
        assert distance in (1000, 500), "at 2 m the largest letter (1.2) is still too small"
        assert [s.distance_mm for s in procedure.steps][:2] == [2000, 1000]
        assert result.bound is None and result.finished
        results.append(result.logmar)
    # 1.3 threshold: its expected chart score is a little above it (chart-equivalent offset).
    assert abs(float(np.mean(results)) - 1.36) < 0.06


def test_wants_closer_only_beyond_the_largest_size_and_while_a_nearer_distance_is_left():
    config = simulate.low_vision_config("sloan")
    procedure = AdaptiveProcedure(config, 1)
    for _ in range(12):
        shown = procedure.next_presentation()
        if shown is None:
            break
        procedure.record(shown, [None])
    assert procedure.wants_closer() and not procedure.finished and procedure.next_presentation() is None
    assert procedure.history[-1].presentation.logmar == 0.9  # every miss at the largest size here
    # Without reach (no low vision) the same misses end the test with a bound.
    plain = replay(
        ProcedureConfig(min_logmar=-0.2, max_logmar=0.9), 1, [(t.presentation, t.responses) for t in procedure.history]
    )
    assert plain.finished and plain.estimate().bound == ">=" and not plain.wants_closer()


def test_replay_with_the_moves_rebuilds_the_same_test_and_refuses_bad_moves():
    procedure, result, _ = _low_vision_run(1.3, 3)
    history = [(t.presentation, t.responses) for t in procedure.history]
    again = replay(procedure.config, procedure.seed, history, steps=procedure.steps)
    assert again.estimate() == result and again.sizes == procedure.sizes
    with pytest.raises(ProcedureError, match="not what this procedure shows"):
        replay(procedure.config, procedure.seed, history)  # the moves left out: sizes it could not show
    with pytest.raises(ProcedureError, match="past the stored trials"):
        replay(procedure.config, procedure.seed, history[:2], steps=procedure.steps)
    fresh = AdaptiveProcedure(procedure.config, 1)
    with pytest.raises(ProcedureError, match="move closer must show larger letters"):
        fresh.move(DistanceStep(0, 4000, -0.2, 0.9))
    with pytest.raises(ProcedureError, match="low vision is off"):
        ChartProcedure(ProcedureConfig(procedure="chart"), 1).move(DistanceStep(0, 2000, 0.1, 1.3))


def test_manual_sizes_follow_the_distance():
    config = ProcedureConfig(procedure="manual", min_logmar=-0.2, max_logmar=0.9, reach_max_logmar=1.8)
    manual = ManualProcedure(config, 1)
    with pytest.raises(ProcedureError, match="cannot be drawn"):
        manual.next_presentation(requested_logmar=1.5)
    manual.move(DistanceStep(0, 1000, 0.4, 1.5))
    assert manual.next_presentation(requested_logmar=1.5).logmar == 1.5
    with pytest.raises(ProcedureError, match="reach_max_logmar"):
        AdaptiveProcedure(ProcedureConfig(min_logmar=-0.2, max_logmar=0.9, reach_max_logmar=0.5), 1)


def test_low_vision_simulation_rows_are_unbiased():
    row = simulate.low_vision_row("sloan", 0.07, 30, seed=11)
    assert row["procedure"] == "adaptive_low_vision" and set(row) == set(simulate.ROW_KEYS)
    assert abs(row["bias"]) < 0.03 and row["loa95"] < 0.2
