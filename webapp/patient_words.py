"""What a patient reads about their screen and their results, in plain words.

A patient screen shows no logMAR, decimal acuity, Snellen fraction of the measurable range, CSS px
or internal name (docs/protocol.md, "Words a patient reads"). The server writes these sentences,
as it writes every notation string: the pages only put them on screen.
"""

from __future__ import annotations

import math
from typing import Any

from acuity import notation as n
from calibration.capability import measurable_range
from calibration.errors import CalibrationError
from calibration.screen import ScreenScale
from webapp.setups import SETUP_DISTANCE_MM

# What a whole test needs the screen to show: letters as small as normal sight (6/6, logMAR 0.0)
# and as large as 6/60 (logMAR 1.0, the ICD-11 9D90 boundary of severe impairment), so that most
# patients' acuity lies inside the range. A screen short of it still measures what it can.
NEEDED_MIN_LOGMAR = 0.0
NEEDED_MAX_LOGMAR = 1.0

# The distance set-ups a patient can be offered instead (measured with a tape, like the test's own).
_TAPE_SETUPS = ("2m", "3m", "4m")


def _covers(min_logmar: float, max_logmar: float) -> bool:
    return min_logmar <= NEEDED_MIN_LOGMAR + 1e-9 and max_logmar >= NEEDED_MAX_LOGMAR - 1e-9


def screen_words(
    scale: ScreenScale,
    viewport_css_px: tuple[float, float],
    viewing_distance_mm: float,
    min_logmar: float,
    max_logmar: float,
    *,
    setup: str,
    mirrored: bool,
    optotypes_per_row: int = 1,
) -> dict[str, Any]:
    """Whether this screen is big enough for the test, in plain words, and the nearest distance
    set-up that would be (from calibration.capability.measurable_range at each set-up's distance).

    Returns {fits: bool, text: str, offer_distance_mm: float | None, offer_text: "2 m" | None}.
    """
    where = format_at(viewing_distance_mm, mirrored)
    if _covers(min_logmar, max_logmar):
        return {
            "fits": True,
            "text": "Your screen is big enough for this test.",
            "offer_distance_mm": None,
            "offer_text": None,
        }
    offer = None
    if setup in _TAPE_SETUPS:
        working = []
        for other in _TAPE_SETUPS:
            distance_mm = SETUP_DISTANCE_MM[other]
            if distance_mm is None or abs(distance_mm - viewing_distance_mm) < 1.0:
                continue
            try:
                other_range = measurable_range(
                    scale, viewport_css_px, distance_mm, crowding=True, optotypes_per_row=optotypes_per_row
                )
            except CalibrationError:
                continue
            if _covers(other_range.min_logmar, other_range.max_logmar):
                working.append(distance_mm)
        if working:
            # The nearest in the eye's terms: the smallest change of angle, log(distance ratio).
            offer = min(working, key=lambda d: (abs(math.log(d / viewing_distance_mm)), d))
    if offer is not None:
        offer_text = n.format_distance_mm(offer)
        text = f"Your screen is too small to test {where}: stand at {offer_text} instead."
        return {"fits": False, "text": text, "offer_distance_mm": offer, "offer_text": offer_text}
    near = setup not in _TAPE_SETUPS and setup != "mirror"
    if min_logmar > NEEDED_MIN_LOGMAR + 1e-9:
        if near:
            text = (
                "Your screen cannot show the smallest letters of this near test. A phone or tablet, "
                "which has a sharper screen, may: ask your clinician for a new link to open there."
            )
        else:
            text = (
                f"Your screen cannot show letters small enough for a whole test {where}. You can still "
                "take the test; a larger screen, such as a computer or a television, would measure more."
            )
    else:
        text = (
            f"Your screen is too small to show the biggest letters {where}. You can still take the test; "
            "make the window as large as you can, or use a larger screen."
        )
    return {"fits": False, "text": text, "offer_distance_mm": None, "offer_text": None}


def format_at(viewing_distance_mm: float, mirrored: bool) -> str:
    """ "at 3 m", or through a mirror "at 1.5 m from the mirror" (half the optical distance)."""
    if mirrored:
        return f"at {n.format_distance_mm(viewing_distance_mm / 2)} from the mirror"
    return f"at {n.format_distance_mm(viewing_distance_mm)}"


# Plain words for a result, by ICD-11 9D90 category (acuity.notation.who_category); the clinician
# explains what it means for the patient.
_CATEGORY_WORDS = {
    "none": "close to normal sight",
    "mild": "a little below normal sight",
    "moderate": "below normal sight",
    "severe": "well below normal sight",
    "blindness": "well below normal sight",
}
_EYE_WORDS = {"right": "Right eye", "left": "Left eye", "both": "Both eyes"}


def result_words(
    eye: str, logmar: float, bound: str | None, near_mm: float | None, stopped_early_text: str | None = None
) -> dict[str, str]:
    """One shared result as the patient reads it: plain words, with the clinician's notation
    (acuity.notation.describe, without logMAR) beside them.

    {eye_text: "Right eye", words: "normal sight or better", notation: "6/6 (20/20)",
     text: "Right eye: normal sight or better — 6/6 (20/20)"}; an eye that stopped early has its
    words after the notation ("6/6 (20/20) · stopped early, after 5 trials").
    """
    from webapp.serializers import describe  # here: serializers -> live -> payloads -> this module

    described = describe(logmar, bound=bound, near_distance_mm=near_mm)  # in the practice's notation
    if logmar <= NEEDED_MIN_LOGMAR + 1e-9:
        words = "normal sight or better"
    else:
        words = _CATEGORY_WORDS[n.who_category(logmar)]
    notation = described["notation_text"] + (f" · {stopped_early_text}" if stopped_early_text else "")
    eye_text = _EYE_WORDS.get(eye, "Your eyes")
    return {"eye_text": eye_text, "words": words, "notation": notation, "text": f"{eye_text}: {words} — {notation}"}


def child_practice_words(symbol: str, correct: bool, left: int) -> dict[str, str]:
    """What the pad says to a child after each letter of the practice round, encouraging either
    way: {title, hint}. `left`: letters of the set still to be matched once."""
    if correct and left == 0:
        return {"title": "Well done! You matched them all.", "hint": "Press Start when you are ready."}
    if correct:
        return {"title": f"Yes! That is the {symbol}.", "hint": "Press Next letter to find another one."}
    return {
        "title": f"Good try! That one was the {symbol}.",
        "hint": "Find the one that looks the same as the big letter. Press Next letter.",
    }
