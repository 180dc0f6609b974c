"""Steps of the webcam distance guard's browser tests: a browser whose fake camera plays a rendered face
(devtools/face_video.py), the reference recorded once the video is at the patient's place, the pauses
the guard causes seen on the display, and what the server stored."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import contextmanager

from devtools.chromium import BROWSER_ARGS, CHROMIUM, FAKE_MEDIA_ARGS
from devtools.face_video import write_y4m
from tests.support.server import ServerProcess

LONG_WAIT_MS = 180_000  # the model loads and runs in a few seconds here; a loaded machine is slower
# The words of a pause the guard caused, once they are on screen.
PAUSE_MESSAGE = """() => { const box = document.querySelector('[data-test-message]');
  return !box.hidden && box.dataset.message === 'paused' && box.textContent.trim(); }"""
_AT_PLACE = (
    "([low, high]) => { const p = document.querySelector('[data-distance-guard]');"
    " const s = Number(p.dataset.frameSpacingPx); return s >= low && s <= high; }"
)


@contextmanager
def face_camera(playwright_instance, folder, camera, schedule, fps: int = 3):
    """Debian's Chromium whose camera plays the face at the schedule's (distance_mm, seconds), looped
    (a few frames a second: cheap on a slow machine)."""
    video = write_y4m(folder / "face.y4m", camera, schedule, fps=fps)
    launched = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=BROWSER_ARGS + FAKE_MEDIA_ARGS + [f"--use-file-for-fake-video-capture={video}"]
    )
    try:
        yield launched
    finally:
        launched.close()


@contextmanager
def own_server(folder, log_name: str):
    """A server of the test's own (its database read afterwards), its log kept as `log_name`."""
    process = ServerProcess(folder).start(120)  # a loaded machine starts it slowly
    try:
        yield process
    finally:
        process.stop()
        process.keep_log(log_name)


def stored_guard(db_path, public_id: str) -> dict | None:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
        (value,) = connection.execute(
            "SELECT distance_guard FROM test_session WHERE public_id = ?", (public_id,)
        ).fetchone()
    return json.loads(value) if value else None


def allow_camera(display, on_asked=None) -> None:
    """Open the camera panel and allow the camera (`on_asked()` first, while it asks)."""
    display.click("[data-distance-guard] > summary")  # closed so that the step fits
    display.wait_for_selector("[data-distance-ask]:not([hidden])")
    if on_asked:
        on_asked()
    display.click('[data-distance-action="allow"]')
    display.wait_for_selector('[data-distance-guard][data-decided="allowed"]', timeout=LONG_WAIT_MS)


def record_reference(
    display, expected_px: float, tries: int = 4, coming_from_px: tuple[float, float] | None = None, on_the_way=None
) -> float | None:
    """Press "Record my place" when the looping video has just come to the place: from further away, or
    through the eye spacing band `coming_from_px` (then `on_the_way()`); returns the recorded eye spacing
    in frame px (None: never recorded)."""
    reference_px = None
    coming_from_px = coming_from_px or (expected_px * 0.80, expected_px * 0.92)
    # A recording that straddles a move is refused by the page, and one a slow machine makes after
    # the video has moved on is at the wrong place: record again (the newer reference replaces it).
    for _ in range(tries):
        display.wait_for_function(_AT_PLACE, arg=list(coming_from_px), timeout=LONG_WAIT_MS)
        if on_the_way:
            on_the_way()
        display.wait_for_function(_AT_PLACE, arg=[expected_px * 0.95, expected_px * 1.05], timeout=LONG_WAIT_MS)
        display.click('[data-distance-action="reference"]')
        display.wait_for_function(
            "() => ['recorded', 'retry'].includes(document.querySelector('[data-distance-guard]').dataset.reference)"
            " && !document.querySelector('[data-distance-action=\"reference\"]').disabled",
            timeout=LONG_WAIT_MS,
        )
        if display.get_attribute("[data-distance-guard]", "data-reference") == "recorded":
            reference_px = float(display.get_attribute("[data-distance-guard]", "data-reference-px"))
            if abs(reference_px / expected_px - 1) < 0.05:
                break
    return reference_px


# Where the pause's words under its title are, and how large: centred on the screen, not left in a line
# narrower than it (a paragraph is at most 40em wide), and never below body text (at 40 cm, 0.4 of the
# title's size was 12 px).
HINT_LAYOUT = """() => {
  const hint = document.querySelector('[data-test-message]:not([hidden]) [data-test-message-hint]');
  if (!hint || !hint.textContent) return null;
  const box = hint.getBoundingClientRect();
  return { centre: (box.left + box.right) / 2, window_centre: window.innerWidth / 2,
           font_px: parseFloat(getComputedStyle(hint).fontSize) };
}"""


def see_pauses_both_ways(display, shots, prefix: str, ways=("closer", "further")) -> dict[str, str]:
    """Wait for a pause with the face too close and one too far (and, among `ways`, "lost": the face out
    of view), whichever the looping video brings first, each followed by the letters again; returns their
    words by way."""
    seen: dict[str, str] = {}
    for _ in range(10):  # each pass of the looping video brings them all; a slow machine may miss one
        text = display.wait_for_function(PAUSE_MESSAGE, timeout=LONG_WAIT_MS).json_value()
        way = (
            "closer" if "too close" in text else "further" if "too far" in text else "lost" if "face" in text else text
        )
        if way not in seen:
            shots.take(display, f"{prefix}-paused-{way}", full_page=False)
            layout = display.evaluate(HINT_LAYOUT)
            if layout:  # (None: the pause was already over) the words centred and at least body text
                assert abs(layout["centre"] - layout["window_centre"]) <= 2 and layout["font_px"] >= 16, layout
        seen[way] = text
        display.wait_for_selector('[data-test-message][data-message="paused"]', state="hidden", timeout=LONG_WAIT_MS)
        display.wait_for_function(
            "() => document.querySelector('[data-stimulus-host]').dataset.drawnHeight", timeout=LONG_WAIT_MS
        )
        if set(ways) <= seen.keys():
            break
    return seen


def pause_deviations_percent(clinician) -> tuple[list[str], list[int], list[int]]:
    """The live view's events, and the deviations (in %) of the guard's pauses: (events, closer, further)."""
    events = clinician.locator("[data-events] li").all_text_contents()
    pauses = [line for line in events if "Distance check paused the test" in line]
    closer = [int(m) for line in pauses for m in re.findall(r"(\d+)% closer", line)]
    further = [int(m) for line in pauses for m in re.findall(r"(\d+)% further", line)]
    return events, closer, further


def guard_holds_the_patient(display, clinician, shots, expected_px: float, tolerance_text: str, prefix: str):
    """On "Get ready" with the camera offered: allow it, record the place (the spacing measured there is
    the pinhole camera's `expected_px` within 5%), start, and see the test pause with the face too
    close and too far and go on each time it is back; the clinician sees the tolerance and every
    pause. Returns the pauses' deviations in %: (closer, further)."""
    allow_camera(display, lambda: shots.take(display, f"{prefix}-asks", full_page=False))
    reference_px = record_reference(display, expected_px)
    assert reference_px and abs(reference_px / expected_px - 1) < 0.05, (reference_px, expected_px)
    shots.take(display, f"{prefix}-recorded", full_page=False)
    clinician.wait_for_function(
        "text => document.querySelector('[data-cal=\"guard\"]').textContent.includes(text)",
        arg=f"tolerance {tolerance_text}",
        timeout=LONG_WAIT_MS,
    )
    display.click('[data-action="ready"]')
    # Both ways, in whichever order the looping video brings them: a pause with the words for it,
    # then the letters again once the face is back.
    seen = see_pauses_both_ways(display, shots, prefix)
    assert {"closer", "further"} <= seen.keys(), seen
    events, closer, further = pause_deviations_percent(clinician)
    assert closer and further, events
    assert any("back at the mark" in line for line in events), events
    shots.take(clinician, f"{prefix}-live-view", full_page=False)
    return closer, further
