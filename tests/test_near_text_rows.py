"""Text-like rows for a near test (chart presentation "text", docs/procedures.md "Text-like rows"): the
chart's rows set like a line of print (letters a stroke apart, no bars), drawn for the calibrated
distance and scored by the server letter by letter, whoever answers."""

import math

from tests.support.app import CALIBRATION, create_test, display, start_testing, watcher

NEAR = {
    **CALIBRATION,
    "distance": {"method": "blind_spot", "offsets_mm": [round(400 * math.tan(math.radians(13.5)), 1)] * 5},
}


def test_the_new_test_form_offers_text_like_rows(clinician_client):
    html = clinician_client.get("/sessions/new").get_data(as_text=True)
    assert 'name="chart_presentation"' in html and 'value="text"' in html
    assert "set like print" in html


def test_a_text_row_is_a_whole_row_a_stroke_apart_scored_letter_by_letter(app, clinician_client):
    public_id, token = create_test(
        clinician_client, eyes="right", procedure="chart", chart_presentation="text", setup="near_40cm"
    )
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    screen = display(app, token)
    stimulus = start_testing(screen, NEAR)
    assert len(stimulus["optotypes"]) == 5  # the whole row at once
    assert stimulus["letter_gap_strokes"] == 1.0 and stimulus["crowding"] is False
    assert stimulus["notation"]["text"].startswith("N")  # a near size: N point first
    # 5 arcmin x 10^logMAR at 40 cm, in CSS px at 4 px per mm (docs/measurement.md §2).
    height_mm = 400 * math.tan(math.radians(5 / 60 * 10 ** stimulus["logmar"]))
    assert abs(stimulus["height_css_px"] / (height_mm * 4.0) - 1) < 0.01

    # Three letters read, two missed: the server scores each against the letter shown.
    shown = stimulus["optotypes"]
    wrong = [next(s for s in "CDHKNORSVZ" if s != letter) for letter in shown[3:]]
    ack = screen.send(
        "answer", {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": shown[:3] + wrong}
    )
    assert ack["ok"] and ack["accepted"]
    scored = watch.last("answer_scored")
    assert scored["trial"]["correct"] == [True, True, True, False, False]
    # Letter by letter (ETDRS): (top row + 0.1) - 0.02 x letters read.
    assert math.isclose(scored["estimate"]["logmar"], stimulus["logmar"] + 0.1 - 0.02 * 3, abs_tol=1e-9)
    following = screen.last("stimulus")
    assert following["letter_gap_strokes"] == 1.0 and math.isclose(following["logmar"], stimulus["logmar"] - 0.1)


def test_the_near_text_rows_have_their_simulation_row_unbiased_with_test_retest_limits():
    """`python -m acuity.simulate --json` carries rows for the near text rows (chart, text presentation,
    a phone at 40 cm) with the adult procedures' bar: bias within 0.02 and test-retest limits reported."""
    from acuity import simulate

    config = simulate.near_text_config("sloan")
    assert config.chart_presentation == "text" and config.crowding is False
    row = simulate.near_text_row("sloan", 0.07, 40, seed=3)
    assert row["procedure"] == "chart_text_near" and set(row) == set(simulate.ROW_KEYS)
    assert abs(row["bias"]) <= 0.02, row
    assert 0 < row["loa95"] < 0.25, row
