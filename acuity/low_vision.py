"""Low vision: moving the patient closer, and the categories below the chart.

Moving closer. A letter of height h at distance d subtends an angle that grows as d shrinks, so the
same screen shows letters log10(d_old / d_new) logMAR larger after a move: halving the distance adds
0.30 logMAR (docs/procedures.md, "Low vision"). The test halves the distance at each step, as a
low-vision chart is brought from 4 m to 2 m, 1 m and 0.5 m, never nearer than NEAREST_DISTANCE_MM.

Categories. An eye that cannot read the largest letter at the nearest distance is recorded by the
clinician as counting fingers (CF), hand movements (HM), light perception (LP) or no light
perception (NLP). CF and HM have conventional logMAR equivalents (Schulze-Bonsel et al. 2006, IOVS
47:1236, measured against the Freiburg test: CF 1.98 ~ decimal 0.014, HM 2.28 ~ 0.005; Lange et al.
2009, Graefes 247:137 give the same order); LP and NLP have none, and none is ever invented.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The nearest distance the test moves a patient to: below it the letters' distance is hard to hold
# and to measure with a tape, and the eye's accommodation (or its near correction) starts to matter.
NEAREST_DISTANCE_MM = 500.0
# Each step halves the distance (+0.30 logMAR).
STEP_FACTOR = 0.5
# The procedures that can carry on after a move (the chart's rows are a fixed sequence).
PROCEDURES = ("adaptive", "manual")


def closer_distances_mm(distance_mm: float, nearest_mm: float = NEAREST_DISTANCE_MM) -> tuple[float, ...]:
    """The distances a patient at `distance_mm` can be moved to, nearest last: 4000 -> (2000, 1000, 500).

    Each halves the one before, in whole centimetres; the last is `nearest_mm` when halving would go
    below it. Empty when the patient is at `nearest_mm` or nearer."""
    steps: list[float] = []
    current = float(distance_mm)
    while current > nearest_mm + 1e-6:
        current = max(nearest_mm, round(current * STEP_FACTOR, -1))
        steps.append(current)
    return tuple(steps)


def logmar_shift(from_mm: float, to_mm: float) -> float:
    """How much larger (logMAR) the same letter is at `to_mm` than at `from_mm`."""
    return math.log10(from_mm / to_mm)


@dataclass(frozen=True)
class VisionCategory:
    code: str  # "CF", "HM", "LP", "NLP"
    name: str  # what every surface writes: "counting fingers"
    logmar_equivalent: float | None  # conventional equivalent; None: there is none (never a number)
    needs_distance: bool  # CF and HM are recorded at a distance ("CF at 1 m")


CATEGORIES: dict[str, VisionCategory] = {
    "CF": VisionCategory("CF", "counting fingers", 1.98, True),
    "HM": VisionCategory("HM", "hand movements", 2.28, True),
    "LP": VisionCategory("LP", "light perception", None, False),
    "NLP": VisionCategory("NLP", "no light perception", None, False),
}


def vision_category(code: object) -> VisionCategory:
    """The category of `code`; ValueError saying which codes there are otherwise."""
    if not isinstance(code, str) or code.upper() not in CATEGORIES:
        raise ValueError(f"unknown category {code!r}; choose one of {', '.join(CATEGORIES)}")
    return CATEGORIES[code.upper()]


def describe_low_vision(
    *, distance_mm: float | None, moved: bool, category: VisionCategory | None, category_distance_mm: float | None
) -> dict:
    """Every string a result shows about low vision (the one place they are worded).

    `distance_text` ("measured at 1 m") when the patient was moved closer, else None; for an eye
    recorded below the chart, `category_text` ("counting fingers (CF) at 1 m") and
    `category_equivalent_text` ("logMAR equivalent 1.98", or "no logMAR equivalent" for LP and NLP),
    and `text`, the one line a clinician reads in place of a measured acuity.
    """
    from acuity.notation import format_distance_mm, format_logmar

    described: dict = {
        "distance_text": f"measured at {format_distance_mm(distance_mm)}" if moved and distance_mm else None,
        "category_text": None,
        "category_equivalent_text": None,
    }
    if category is not None:
        at = f" at {format_distance_mm(category_distance_mm)}" if category_distance_mm else ""
        equivalent = (
            f"logMAR equivalent {format_logmar(category.logmar_equivalent)}"
            if category.logmar_equivalent is not None
            else "no logMAR equivalent"
        )
        described["category_text"] = f"{category.name} ({category.code}){at}"
        described["category_equivalent_text"] = equivalent
        described["text"] = f"{category.name[0].upper()}{category.name[1:]} ({category.code}){at} · {equivalent}"
    return described
