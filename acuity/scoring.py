"""Scoring of answers: the server, never the page, decides what was correct."""

from __future__ import annotations

from collections.abc import Sequence


def score_responses(shown: Sequence[str], responses: Sequence[str | None]) -> tuple[bool, ...]:
    """One flag per optotype shown; a response of None ("not sure") counts as incorrect.

    Charts score an unread letter as missed (ETDRS letter-by-letter scoring, Ferris et al. 1982).
    """
    if len(shown) != len(responses):
        raise ValueError(f"expected {len(shown)} responses, got {len(responses)}")
    return tuple(r is not None and r == s for s, r in zip(shown, responses, strict=False))
