"""The test set-ups a clinician chooses: the optical distance each asks for and how it is measured.

One place for both the live test (webapp/live/) and the pages and reports (webapp/serializers.py).
"""

from __future__ import annotations

# Optical distance each set-up asks for, in mm (the mirror set-up: whatever the patient measured).
SETUP_DISTANCE_MM: dict[str, float | None] = {
    "2m": 2000.0,
    "3m": 3000.0,
    "4m": 4000.0,
    "near_40cm": 400.0,
    "mirror": None,
}
# Near set-ups: their notation is also written in N point and M units at this distance.
NEAR_SETUPS = frozenset({"near_40cm"})
# How each set-up's distance may be measured (docs/measurement.md §5).
SETUP_DISTANCE_METHODS: dict[str, tuple[str, ...]] = {
    "2m": ("tape",),
    "3m": ("tape",),
    "4m": ("tape",),
    "mirror": ("mirror",),
    "near_40cm": ("tape", "blind_spot"),
}
# The far set-ups measured with a tape from the screen (what low vision moves closer, and what a patient
# whose screen is too small is offered instead).
TAPE_SETUPS: tuple[str, ...] = tuple(s for s, methods in SETUP_DISTANCE_METHODS.items() if methods == ("tape",))


def near_distance_mm(setup: str | None) -> float | None:
    """The test distance of a near set-up, in mm; None for a distance set-up."""
    return SETUP_DISTANCE_MM[setup] if setup in NEAR_SETUPS else None
