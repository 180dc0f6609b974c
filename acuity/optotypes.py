"""Optotype sets: their symbols and guess rates (geometry is added below the definitions)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OptotypeSet:
    name: str
    symbols: tuple[str, ...]
    guess_rate: float  # chance of a correct answer by guessing: 1 / number of alternatives


# Sloan letters: NAS-NRC Committee on Vision (1980). Guess rate 1/10.
SLOAN = OptotypeSet("sloan", ("C", "D", "H", "K", "N", "O", "R", "S", "V", "Z"), 1 / 10)
# Tumbling E: symbol = direction the limbs point (the open side). Guess rate 1/4.
TUMBLING_E = OptotypeSet("tumbling_e", ("right", "up", "left", "down"), 1 / 4)
# Landolt C (ISO 8596): symbol = direction of the gap; 8 positions (1/8) or 4 (1/4).
LANDOLT_C8 = OptotypeSet(
    "landolt_c8",
    ("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right"),
    1 / 8,
)
LANDOLT_C4 = OptotypeSet("landolt_c4", ("right", "up", "left", "down"), 1 / 4)

OPTOTYPE_SETS: dict[str, OptotypeSet] = {s.name: s for s in (SLOAN, TUMBLING_E, LANDOLT_C8, LANDOLT_C4)}


def optotype_set(name: str) -> OptotypeSet:
    try:
        return OPTOTYPE_SETS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown optotype set {name!r}; choose one of {', '.join(OPTOTYPE_SETS)}"
        ) from None
