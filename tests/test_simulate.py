"""The simulation benchmark's command line: keys, shape and sanity of its figures."""

import json
import math

import pytest

from acuity import simulate


@pytest.fixture(scope="module")
def quick_rows():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert simulate.main(["--quick", "--json", "--seed", "5"]) == 0
    return json.loads(out.getvalue())


def test_quick_json_has_exactly_the_documented_keys(quick_rows):
    # One row per procedure, optotype set and observer SD, the low-vision rows (adaptive, moved closer)
    # and the near text rows (chart, phone at 40 cm).
    assert len(quick_rows) == (len(simulate.PROCEDURE_NAMES) + 2) * len(simulate.OPTOTYPE_SETS) * 3
    for row in quick_rows:
        assert set(row) == {
            "procedure",
            "optotype",
            "observer_sd",
            "trials_mean",
            "bias",
            "sd",
            "rmse",
            "loa95",
            "cr_sd",
        }
    assert {r["procedure"] for r in quick_rows} == {
        "adaptive",
        "best_pest",
        "best_pest_30",
        "chart",
        "adaptive_low_vision",
        "chart_text_near",
    }
    assert {r["optotype"] for r in quick_rows} == {"sloan", "tumbling_e", "landolt_c8", "hotv"}
    assert {r["observer_sd"] for r in quick_rows} == {0.04, 0.07, 0.14}


def test_quick_figures_are_sane(quick_rows):
    for row in quick_rows:
        assert all(math.isfinite(row[k]) for k in ("trials_mean", "bias", "sd", "rmse", "loa95", "cr_sd"))
        assert 0 < row["cr_sd"] < 0.1 and 0 <= row["sd"] < 0.3 and abs(row["bias"]) < 0.15
        assert row["rmse"] >= abs(row["bias"]) - 1e-4
        assert row["loa95"] == pytest.approx(1.96 * math.sqrt(2) * row["sd"], abs=2e-4)
        expected_trials = {
            "adaptive": (3, 30),
            "adaptive_low_vision": (3, 30),
            "best_pest_30": (30, 30),
            "chart": (5, 70),
            "chart_text_near": (5, 45),
        }.get(row["procedure"])
        if row["procedure"] == "best_pest":
            expected_trials = (18, 18) if row["optotype"] == "landolt_c8" else (24, 24)
        assert expected_trials[0] <= row["trials_mean"] <= expected_trials[1]
    # The bound shrinks with a steeper observer.
    sloan = {
        r["observer_sd"]: r["cr_sd"]
        for r in quick_rows
        if r["procedure"] == "best_pest_30" and r["optotype"] == "sloan"
    }
    assert sloan[0.04] < sloan[0.07] < sloan[0.14]
    assert sloan[0.07] == pytest.approx(0.0183, abs=0.0003)  # lapse 0.03: a little above 0.018


def test_same_seed_same_figures():
    a = simulate.benchmark(2, seed=3, procedures=["adaptive"], optotypes=["sloan"], observer_sds=[0.07])
    b = simulate.benchmark(2, seed=3, procedures=["adaptive"], optotypes=["sloan"], observer_sds=[0.07])
    assert a == b


def test_bad_arguments_are_refused():
    with pytest.raises(simulate.SimulationError, match="at least one observer"):
        simulate.observers(0, "sloan", 0.07, 1)
    with pytest.raises(simulate.SimulationError, match="unknown procedure"):
        simulate.benchmark_row("snellen", "sloan", 0.07, 1, 1)
    with pytest.raises(SystemExit):
        simulate.main(["--observers", "0"])


def test_quick_offset_calibration_agrees_with_the_constants():
    from acuity.procedures.bayesian import CHART_OFFSET_LOGMAR

    rows = simulate.calibrate_offsets(40, seed=3, optotypes=("sloan", "tumbling_e"))
    for row in rows:
        assert set(row) == {"optotype", "offset", "offset_se", "ci95_coverage", "observers"}
        # 40 observers: SE about 0.005; the constants come from 1000 (docs/procedures.md).
        assert abs(row["offset"] - CHART_OFFSET_LOGMAR[row["optotype"]]) < 4 * row["offset_se"] + 0.005
        assert row["ci95_coverage"] >= 0.85
