"""Trial ids on the wire: `"<eye>-<index>"` (docs/protocol.md, "trial_id and seq")."""

from __future__ import annotations

EYES = ("right", "left", "both")
# No procedure comes near this many trials of one eye (acuity.procedure caps max_trials at 500); a
# larger index is no trial of ours, and must not reach the database (SQLite integers are 64-bit).
MAX_TRIAL_INDEX = 9999


def format_trial_id(eye: str, index: int) -> str:
    return f"{eye}-{index}"


def parse_trial_id(value: str) -> tuple[str, int] | None:
    """(eye, index) of a trial id, or None when it names no possible trial."""
    eye, _, index = value.rpartition("-")
    if eye not in EYES or not index.isdigit() or not index.isascii() or len(index) > len(str(MAX_TRIAL_INDEX)):
        return None
    return eye, int(index)
