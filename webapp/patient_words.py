"""What a patient reads about their screen and their results, in plain words.

A patient screen shows no logMAR, decimal acuity, Snellen fraction of the measurable range, CSS px
or internal name (docs/protocol.md, "Words a patient reads"). The server writes these sentences,
as it writes every notation string, in the test's language (webapp/i18n.py): the pages only put them
on screen.
"""

from __future__ import annotations

import math
import re
from typing import Any

from acuity import notation as n
from calibration.capability import measurable_range
from calibration.errors import CalibrationError
from calibration.screen import ScreenScale
from webapp.i18n import N_, translator
from webapp.setups import SETUP_DISTANCE_MM, TAPE_SETUPS

# What a whole test needs the screen to show: letters as small as normal sight (6/6, logMAR 0.0)
# and as large as 6/60 (logMAR 1.0, the ICD-11 9D90 boundary of severe impairment), so that most
# patients' acuity lies inside the range. A screen short of it still measures what it can.
NEEDED_MIN_LOGMAR = 0.0
NEEDED_MAX_LOGMAR = 1.0


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
    language: str | None = None,
) -> dict[str, Any]:
    """Whether this screen is big enough for the test, in plain words, and the nearest distance
    set-up that would be (from calibration.capability.measurable_range at each set-up's distance).

    Returns {fits: bool, text: str, offer_distance_mm: float | None, offer_text: "2 m" | None}.
    """
    _ = translator(language)
    where = format_at(viewing_distance_mm, mirrored, language)
    if _covers(min_logmar, max_logmar):
        return {
            "fits": True,
            "text": _("Your screen is big enough for this test."),
            "offer_distance_mm": None,
            "offer_text": None,
        }
    offer = None
    if setup in TAPE_SETUPS:
        working = []
        for other in TAPE_SETUPS:
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
        offer_text = distance_text(offer, language)
        text = _(
            "Your screen is too small to test {where}: stand at {distance} instead.", where=where, distance=offer_text
        )
        return {"fits": False, "text": text, "offer_distance_mm": offer, "offer_text": offer_text}
    near = setup not in TAPE_SETUPS and setup != "mirror"
    if min_logmar > NEEDED_MIN_LOGMAR + 1e-9:
        if near:
            text = _(
                "Your screen cannot show the smallest letters of this near test. A phone or tablet, "
                "which has a sharper screen, may: ask your clinician for a new link to open there."
            )
        else:
            text = _(
                "Your screen cannot show letters small enough for a whole test {where}. You can still "
                "take the test; a larger screen, such as a computer or a television, would measure more.",
                where=where,
            )
    else:
        text = _(
            "Your screen is too small to show the biggest letters {where}. You can still take the test; "
            "make the window as large as you can, or use a larger screen.",
            where=where,
        )
    return {"fits": False, "text": text, "offer_distance_mm": None, "offer_text": None}


def distance_text(distance_mm: float, language: str | None = None) -> str:
    """A distance as the patient reads it: acuity.notation's "3 m", "40 cm", with the unit in the
    patient's language ("3 م" in Arabic)."""
    _ = translator(language)
    number, unit = n.format_distance_mm(distance_mm).split()
    number = number_text(number, language)
    return _("{count} m", count=number) if unit == "m" else _("{count} cm", count=number)


def format_at(viewing_distance_mm: float, mirrored: bool, language: str | None = None) -> str:
    """ "at 3 m", or through a mirror "at 1.5 m from the mirror" (half the optical distance)."""
    _ = translator(language)
    if mirrored:
        return _("at {distance} from the mirror", distance=distance_text(viewing_distance_mm / 2, language))
    return _("at {distance}", distance=distance_text(viewing_distance_mm, language))


def position_text(viewing_distance_mm: float, mirrored: bool, language: str | None = None) -> str:
    """Where the patient stands: "3 m from the screen", through a mirror "1.5 m from the mirror"."""
    _ = translator(language)
    if mirrored:
        return _("{distance} from the mirror", distance=distance_text(viewing_distance_mm / 2, language))
    return _("{distance} from the screen", distance=distance_text(viewing_distance_mm, language))


def distance_texts(distance_mm: float | None, language: str | None = None) -> dict[str, str | None]:
    """A set-up's distance as the patient reads it: short ("3 m", "40 cm") and long ("3 metres",
    "40 centimetres"); None for the mirror, whose distance the patient measures."""
    if not distance_mm:
        return {"required_distance_text": None, "required_distance_long_text": None}
    _ = translator(language)
    short = distance_text(distance_mm, language)
    number = number_text(n.format_distance_mm(distance_mm).split()[0], language)
    long = _("{count} metres", count=number) if distance_mm >= 1000 else _("{count} centimetres", count=number)
    return {"required_distance_text": short, "required_distance_long_text": long}


# Plain words for a result, by ICD-11 9D90 category (acuity.notation.who_category); the clinician
# explains what it means for the patient.
_CATEGORY_WORDS = {
    "none": N_("close to normal sight"),
    "mild": N_("a little below normal sight"),
    "moderate": N_("below normal sight"),
    "severe": N_("well below normal sight"),
    "blindness": N_("well below normal sight"),
}
_EYE_WORDS = {"right": N_("Right eye"), "left": N_("Left eye"), "both": N_("Both eyes")}


def result_words(
    eye: str,
    logmar: float | None,
    bound: str | None,
    style: dict,
    stopped_early_trials: int | None = None,
    language: str | None = None,
    low_vision: dict | None = None,
) -> dict[str, str]:
    """One shared result as the patient reads it: plain words, with the clinician's notation
    (acuity.notation.describe, without logMAR) beside them.

    {eye_text: "Right eye", words: "normal sight or better", notation: "6/6 (20/20)",
     text: "Right eye: normal sight or better — 6/6 (20/20)"}; an eye that stopped early has its
    words after the notation ("6/6 (20/20) · stopped early, after 5 trials").
    """
    from webapp.serializers import describe  # here: serializers -> live -> payloads -> this module

    _ = translator(language)
    eye_text = _(_EYE_WORDS.get(eye, N_("Your eyes")))
    low_vision = low_vision or {}
    if low_vision.get("category"):  # below the chart (serializers.result_dict): its words, never a number
        words = _(_LOW_VISION_WORDS[low_vision["category"]])
        if low_vision.get("category_distance_mm"):
            words = _(
                "{category} at {distance}",
                category=words,
                distance=distance_text(low_vision["category_distance_mm"], language),
            )
        return {
            "eye_text": eye_text,
            "words": words,
            "notation": "",
            "text": _("{eye}: {words}", eye=eye_text, words=words),
        }
    described = describe(logmar, style, bound=bound)  # in the practice's notation (serializers.notation_style)
    if logmar <= NEEDED_MIN_LOGMAR + 1e-9:
        words = _("normal sight or better")
    else:
        words = _(_CATEGORY_WORDS[n.who_category(logmar)])
    notation = notation_words(described, style, bound, language)
    if stopped_early_trials is not None:
        early = (
            _("stopped early, after 1 trial")
            if stopped_early_trials == 1
            else _("stopped early, after {count} trials", count=stopped_early_trials)
        )
        notation += " · " + early
    if low_vision.get("moved_closer") and low_vision.get("distance_mm"):
        notation += " · " + _("measured at {distance}", distance=distance_text(low_vision["distance_mm"], language))
    text = _("{eye}: {words} — {notation}", eye=eye_text, words=words, notation=notation)
    return {"eye_text": eye_text, "words": words, "notation": notation, "text": text}


def number_text(text: str, language: str | None = None) -> str:
    """Numbers in a notation with the decimal sign of the patient's language (Babel, CLDR): "6/7,5"
    and "0,80" in Spanish and German; the digits stay as the chart prints them."""
    from babel.numbers import get_decimal_symbol

    sign = get_decimal_symbol(language or "en")
    return re.sub(r"(?<=\d)\.(?=\d)", sign, text) if sign != "." else text


_BOUNDS = {"better than ": N_("better than {value}"), "worse than ": N_("worse than {value}")}
_QUALIFIERS = {" or better": N_("{notation} or better"), " or worse": N_("{notation} or worse")}


def notation_words(described: dict[str, Any], style: dict, bound: str | None, language: str | None = None) -> str:
    """acuity.notation.describe's `notation_text` (the practice's notation, no logMAR) as the patient
    reads it: its words ("better than", "or worse", "decimal", "at") in the patient's language and
    its numbers with the language's decimal sign ("6/7,5 (20/25)", "Dezimal 0,80 (6/7,5)")."""
    _ = translator(language)

    def value(text: str, decimal: bool = False) -> str:
        for english, message in _BOUNDS.items():
            if text.startswith(english):
                return _(message, value=value(text[len(english) :], decimal))
        number = number_text(text, language)
        return _("decimal {value}", value=number) if decimal else number

    near_mm = style.get("near_distance_mm")
    if near_mm is not None:
        at = _("{size} at {distance}", size=value(described["m_units"]), distance=distance_text(near_mm, language))
        first, second = value(described["n_point"]), at
    else:
        first, second = {
            "6m": (value(described["snellen_6"]), value(described["snellen_20"])),
            "20ft": (value(described["snellen_20"]), value(described["snellen_6"])),
            "decimal": (value(described["decimal"], decimal=True), value(described["snellen_6"])),
        }[style.get("lead", "6m")]
    notation = f"{first} ({second})"
    for english, message in _QUALIFIERS.items():
        if described["notation_text"].endswith(english):
            return _(message, notation=notation)
    return notation


# Low vision (acuity.low_vision.CATEGORIES): what a patient reads for a category below the chart.
_LOW_VISION_WORDS = {
    "CF": N_("you could count fingers"),
    "HM": N_("you could see a hand move"),
    "LP": N_("you could see light"),
    "NLP": N_("you could not see light"),
}


def move_closer_words(distance_mm: float, language: str | None = None) -> dict[str, str]:
    """What the patient reads when the test moves them closer (low vision): the new distance to
    measure with the tape, as at set-up."""
    _ = translator(language)
    where = distance_text(distance_mm, language)
    return {
        "distance_text": where,
        "text": _(
            "The letters need to be bigger for you. Please come closer: measure {distance} from the screen "
            "with the tape, sit or stand there, and confirm it.",
            distance=where,
        ),
    }


def child_practice_words(symbol: str, correct: bool, left: int, language: str | None = None) -> dict[str, str]:
    """What the pad says to a child after each letter of the practice round, encouraging either
    way: {title, hint}. `left`: letters of the set still to be matched once."""
    _ = translator(language)
    if correct and left == 0:
        return {"title": _("Well done! You matched them all."), "hint": _("Press Start when you are ready.")}
    if correct:
        return {
            "title": _("Yes! That is the {symbol}.", symbol=symbol),
            "hint": _("Press Next letter to find another one."),
        }
    return {
        "title": _("Good try! That one was the {symbol}.", symbol=symbol),
        "hint": _("Find the one that looks the same as the big letter. Press Next letter."),
    }
