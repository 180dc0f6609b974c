"""Optotype sets: their symbols and guess rates, and their exact geometry (the one source the browser draws).

Geometry: every optotype is SVG path data on the 5 x 5 stroke grid (coordinates 0..5, y down, one
unit = one stroke = the critical detail, 1 arcmin at logMAR 0), filled black on white with the
"evenodd" fill rule. Holes are also drawn in the opposite direction to their outline, so a renderer
that falls back to "nonzero" draws the same shapes. Letters are straight segments and circular arcs
only (no Bezier curves), so stroke widths and gaps are exact rather than a font's approximation
(docs/measurement.md §3: the Pelli Sloan font may not be redistributed; draw from the grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from acuity.geometry import PathBuilder, point_on_circle, rotate_point


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
# HOTV, for children who match rather than name letters: the child points to the letter on a card of
# the four (here the phone shows the four). Amblyopia Treatment Study protocol: one letter at a time
# with crowding bars (Moke et al., Am J Ophthalmol 2001). Guess rate 1/4.
HOTV = OptotypeSet("hotv", ("H", "O", "T", "V"), 1 / 4)

OPTOTYPE_SETS: dict[str, OptotypeSet] = {s.name: s for s in (SLOAN, TUMBLING_E, LANDOLT_C8, LANDOLT_C4, HOTV)}


def optotype_set(name: str) -> OptotypeSet:
    try:
        return OPTOTYPE_SETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optotype set {name!r}; choose one of {', '.join(OPTOTYPE_SETS)}") from None


# ---------------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------------

GRID_STROKES = 5  # every optotype is 5 strokes high and wide (ISO 8596; NAS-NRC 1980 for Sloan)
FILL_RULE = "evenodd"
INK_COLOUR = "#000000"  # black on white: ISO 10938 wants >= 85% contrast (docs/measurement.md §3)
BACKGROUND_COLOUR = "#ffffff"
_CENTRE = GRID_STROKES / 2

# Landolt C, ISO 8596: outer diameter 5 strokes, inner 3, gap 1 stroke with parallel edges.
LANDOLT_OUTER_RADIUS = 2.5
LANDOLT_INNER_RADIUS = 1.5
LANDOLT_GAP_STROKES = 1.0

# Direction names -> angle in degrees anticlockwise from "right", as the patient sees it (0 = right,
# 90 = up). Screen angles (y down) are the negatives of these.
DIRECTION_DEG: dict[str, float] = {
    "right": 0.0,
    "up-right": 45.0,
    "up": 90.0,
    "up-left": 135.0,
    "left": 180.0,
    "down-left": 225.0,
    "down": 270.0,
    "down-right": 315.0,
}


class OptotypeError(ValueError):
    """An unknown optotype symbol or a bad drawing parameter; the message lists what is allowed."""


def landolt_c_path(gap_direction_deg: float) -> str:
    """SVG path of a Landolt C (ISO 8596) whose gap points `gap_direction_deg` anticlockwise from right.

    Outer diameter 5, inner 3, centred on (2.5, 2.5). The gap is a strip 1 stroke wide with PARALLEL
    edges (not a wedge): each gap edge is the line at perpendicular distance 0.5 from the gap's
    axis, so it meets the outer circle at asin(0.5 / 2.5) and the inner at asin(0.5 / 1.5) from the
    axis. Any angle is exact, so the oblique positions are the right one rotated, not redrawn.
    """
    if (
        isinstance(gap_direction_deg, bool)
        or not isinstance(gap_direction_deg, (int, float))
        or not math.isfinite(gap_direction_deg)
    ):
        raise OptotypeError(f"gap direction must be a finite angle in degrees, got {gap_direction_deg!r}")
    axis = -float(gap_direction_deg)  # screen angle (y down)
    half_gap = LANDOLT_GAP_STROKES / 2
    outer_offset = math.degrees(math.asin(half_gap / LANDOLT_OUTER_RADIUS))
    inner_offset = math.degrees(math.asin(half_gap / LANDOLT_INNER_RADIUS))
    c, r_out, r_in = _CENTRE, LANDOLT_OUTER_RADIUS, LANDOLT_INNER_RADIUS
    path = PathBuilder()
    path.move_to(*point_on_circle(c, c, r_out, axis + outer_offset))
    path.arc(c, c, r_out, axis + outer_offset, axis + 360 - outer_offset)  # the long way round
    path.line_to(*point_on_circle(c, c, r_in, axis + 360 - inner_offset))  # one gap edge
    path.arc(c, c, r_in, axis + 360 - inner_offset, axis + inner_offset)  # back, the other way
    return path.close().d()  # closing segment: the other gap edge, parallel to the first


def _tumbling_e_path(direction_deg: float) -> str:
    """Tumbling E on the 5 x 5 grid: spine 1 stroke, three bars and two gaps of 1 stroke each.

    Drawn with the limbs pointing right (like the letter E), then rotated about the centre; the
    rotations are multiples of 90 degrees, so every vertex stays on the integer grid.
    """
    limbs_right = [
        (0, 0),
        (5, 0),
        (5, 1),
        (1, 1),
        (1, 2),
        (5, 2),
        (5, 3),
        (1, 3),
        (1, 4),
        (5, 4),
        (5, 5),
        (0, 5),
    ]
    screen_deg = -direction_deg
    return PathBuilder().polygon(rotate_point(x, y, screen_deg) for x, y in limbs_right).d()


def _sloan_paths() -> dict[str, str]:
    """The ten Sloan letters (NAS-NRC Committee on Vision 1980; docs/measurement.md §3).

    Each fills the 5 x 5 box with strokes 1 wide (measured perpendicular to the stroke, also on the
    diagonals) and is drawn from straight segments and circular arcs. Outlines run clockwise on
    screen, holes anticlockwise. The C is the Landolt C with its gap to the right, the O a ring of
    outer diameter 5 and inner 3; D, R and S use arcs of outer radius 2.5 or 1.5 and stroke 1.
    The committee's drawings are followed in structure (which strokes, where they join); the curves
    of R and S are circular arcs rather than the drawn curves, and the K's arms are mirror images.
    """
    c = _CENTRE
    letters: dict[str, str] = {}

    letters["C"] = landolt_c_path(DIRECTION_DEG["right"])

    # D: stem, top and bottom bars to the middle, right half a ring (outer r 2.5, inner r 1.5).
    d = PathBuilder()
    d.move_to(0, 0).line_to(2.5, 0).arc(c, c, 2.5, -90, 90).line_to(0, 5).close()
    d.move_to(1, 1).line_to(1, 4).line_to(2.5, 4).arc(c, c, 1.5, 90, -90).close()
    letters["D"] = d.d()

    # H: two stems and a crossbar at mid-height.
    letters["H"] = (
        PathBuilder()
        .polygon([(0, 0), (1, 0), (1, 2), (4, 2), (4, 0), (5, 0), (5, 5), (4, 5), (4, 3), (1, 3), (1, 5), (0, 5)])
        .d()
    )

    # K: stem, and two arms (mirror images about y = 2.5) that leave the stem between y = 2 and 3 and
    # end flush with the top-right and bottom-right corners. An arm's upper edge runs from (5 - h, 0)
    # to (1, rise); its horizontal width h makes its perpendicular width 1: h * rise / length = 1
    # with run = 4 - h, so h^2 (rise^2 - 1) + 8 h - (16 + rise^2) = 0.
    rise = 2.0
    a = rise**2 - 1
    h = (-8 + math.sqrt(64 + 4 * a * (16 + rise**2))) / (2 * a)
    notch_x = 5 - 2.5 * (4 - h) / rise  # where the arms' inner edges meet, on y = 2.5
    letters["K"] = (
        PathBuilder()
        .polygon(
            [
                (0, 0),
                (1, 0),
                (1, rise),
                (5 - h, 0),
                (5, 0),
                (notch_x, 2.5),
                (5, 5),
                (5 - h, 5),
                (1, 5 - rise),
                (1, 5),
                (0, 5),
            ]
        )
        .d()
    )

    # N: two stems, and a diagonal from the top of the left stem to the bottom of the right one whose
    # edges are offset vertically by v; perpendicular width 1 means 9 v^2 = 9 + (5 - v)^2.
    v = (-10 + math.sqrt(100 + 4 * 8 * 34)) / (2 * 8)
    letters["N"] = (
        PathBuilder().polygon([(0, 0), (1, 0), (4, 5 - v), (4, 0), (5, 0), (5, 5), (4, 5), (1, v), (1, 5), (0, 5)]).d()
    )

    # O: ring, outer diameter 5, inner 3 (the hole drawn the other way round).
    o = PathBuilder()
    o.move_to(5, c).arc(c, c, 2.5, 0, 360).close()
    o.move_to(4, c).arc(c, c, 1.5, 360, 0).close()
    letters["O"] = o.d()

    # R: stem; a bowl 3 strokes high (top bar, hole, middle bar; right end a half ring of outer r 1.5,
    # inner r 0.5); a leg from the middle bar to the bottom-right corner, 1 stroke wide measured
    # perpendicular to it (run 1.5, rise 2, horizontal width 1.25: 1.25 * 2 / 2.5 = 1).
    r = PathBuilder()
    r.move_to(0, 0).line_to(3.5, 0).arc(3.5, 1.5, 1.5, -90, 90)
    r.line_to(5, 5).line_to(3.75, 5).line_to(2.25, 3).line_to(1, 3).line_to(1, 5).line_to(0, 5).close()
    r.move_to(1, 1).line_to(1, 2).line_to(3.5, 2).arc(3.5, 1.5, 0.5, 90, -90).close()
    letters["R"] = r.d()

    # S: point-symmetric about the centre. Top bar from the right edge, a half ring (outer r 1.5,
    # inner r 0.5) down the left to the middle bar, a half ring down the right to the bottom bar.
    s = PathBuilder()
    s.move_to(5, 0).line_to(1.5, 0).arc(1.5, 1.5, 1.5, -90, -270)
    s.line_to(3.5, 3).arc(3.5, 3.5, 0.5, -90, 90)
    s.line_to(0, 4).line_to(0, 5).line_to(3.5, 5).arc(3.5, 3.5, 1.5, 90, -90)
    s.line_to(1.5, 2).arc(1.5, 1.5, 0.5, 90, 270)
    s.line_to(5, 1).close()
    letters["S"] = s.d()

    # V: two arms from the top corners to a flat foot 1 stroke wide at the bottom centre. Outer edges
    # run (0,0)-(2,5); an arm's horizontal width is its length / rise = sqrt(29) / 5 for width 1.
    w = math.hypot(2, 5) / 5
    apex_y = (2.5 - w) / (2 / 5)  # inner edges meet on x = 2.5
    letters["V"] = PathBuilder().polygon([(0, 0), (w, 0), (2.5, apex_y), (5 - w, 0), (5, 0), (3, 5), (2, 5)]).d()

    # Z: top and bottom bars, and a diagonal between them whose edges are offset horizontally by z;
    # perpendicular width 1 means 9 z^2 = 9 + (5 - z)^2 (the same equation as the N).
    z = v
    letters["Z"] = (
        PathBuilder().polygon([(0, 0), (5, 0), (5, 1), (z, 4), (5, 4), (5, 5), (0, 5), (0, 4), (5 - z, 1), (0, 1)]).d()
    )

    return {symbol: letters[symbol] for symbol in SLOAN.symbols}


def _hotv_paths() -> dict[str, str]:
    """HOTV: H, O and V are the Sloan letters; the T is drawn on the same 5 x 5 grid with strokes 1
    wide (a top bar across the box and a centred stem), as the ATS HOTV charts draw it in the Sloan
    style (Moke et al. 2001)."""
    sloan = _sloan_paths()
    t = PathBuilder().polygon([(0, 0), (5, 0), (5, 1), (3, 1), (3, 5), (2, 5), (2, 1), (0, 1)]).d()
    letters = {"H": sloan["H"], "O": sloan["O"], "T": t, "V": sloan["V"]}
    return {symbol: letters[symbol] for symbol in HOTV.symbols}


def _build_paths() -> dict[str, dict[str, str]]:
    return {
        SLOAN.name: _sloan_paths(),
        TUMBLING_E.name: {s: _tumbling_e_path(DIRECTION_DEG[s]) for s in TUMBLING_E.symbols},
        LANDOLT_C8.name: {s: landolt_c_path(DIRECTION_DEG[s]) for s in LANDOLT_C8.symbols},
        LANDOLT_C4.name: {s: landolt_c_path(DIRECTION_DEG[s]) for s in LANDOLT_C4.symbols},
        HOTV.name: _hotv_paths(),
    }


_PATHS: dict[str, dict[str, str]] = _build_paths()


def optotype_path(set_name: str, symbol: str) -> str:
    """SVG path data (grid units 0..5, y down, fill-rule evenodd) of one optotype of one set."""
    paths = _PATHS[optotype_set(set_name).name]
    try:
        return paths[symbol]
    except (KeyError, TypeError):
        raise OptotypeError(
            f"unknown symbol {symbol!r} for optotype set {set_name!r}; choose one of {', '.join(paths)}"
        ) from None


def optotype_geometry(set_name: str) -> dict:
    """What the browser needs to draw one set: {"name", "guess_rate", "grid", "fill_rule", "symbols"}."""
    chosen = optotype_set(set_name)
    return {
        "name": chosen.name,
        "guess_rate": chosen.guess_rate,
        "grid": GRID_STROKES,
        "fill_rule": FILL_RULE,
        "symbols": dict(_PATHS[chosen.name]),
    }


# ---------------------------------------------------------------------------------------------------
# Crowding
# ---------------------------------------------------------------------------------------------------

# Visus shows optotypes crowded by default. A single optotype in empty space overstates acuity in
# amblyopia: amblyopic eyes read isolated letters better than letters in a row (Stuart & Burian 1962,
# the "crowding phenomenon"), and nearby contours degrade recognition out to about one letter width
# (Flom, Weymouth & Kahneman 1963, contour interaction around a Landolt C at threshold extended to
# about 5 arcmin, i.e. about one optotype width). A crowded test is the clinical chart's condition.
CROWDED_BY_DEFAULT = True
# Bailey-Lovie / ETDRS rule: letter spacing = one letter width, edge to edge (docs/measurement.md §3).
CROWDING_GAP_STROKES = 5.0
# A text-like row (chart presentation `text`, near reading): letters one stroke apart (a fifth of a
# letter width), about the space between the capitals of a line of print, as reading charts set their
# text at ordinary print spacing (Bailey & Lovie 1980, the word reading chart; Mansfield, Legge & Bane
# 1996, MNREAD); no crowding bars, the neighbouring letters crowd (docs/procedures.md, "Text-like rows").
TEXT_LETTER_GAP_STROKES = 1.0


def letter_gap_strokes(chart_presentation: str) -> float:
    """The space between neighbouring letters of a row, edge to edge, in strokes (`stimulus.letter_gap_strokes`)."""
    return TEXT_LETTER_GAP_STROKES if chart_presentation == "text" else CROWDING_GAP_STROKES


CROWDING_BAR_THICKNESS_STROKES = 1.0
CROWDING_BAR_LENGTH_STROKES = 5.0
_CROWDING_SIDES = ("left", "right", "top", "bottom")


def crowding_bars(gap_strokes: float = CROWDING_GAP_STROKES) -> dict:
    """Flanking bars around a single optotype, in the optotype's grid units (y down, 0..5 = the optotype).

    Four bars, one on each side, each 1 stroke thick and 5 strokes long (as long as the optotype),
    centred on the optotype's axis and `gap_strokes` from its 5 x 5 box edge to edge. The default gap
    of 5 strokes is the Bailey-Lovie / ETDRS letter spacing of one letter width (Bailey & Lovie 1976;
    docs/measurement.md §3), so each bar stands exactly where the nearest stroke of a
    neighbouring letter on a chart row would stand. FrACT (Bach) draws the same kind of bars
    ("flanking bars" 1 stroke wide and 5 long; "surrounding bars" on four sides) with a distance
    option "like ETDRS"; Visus puts bars on all four sides, as on a chart a letter also has rows
    above and below.

    Crowded presentation is Visus's default (`CROWDED_BY_DEFAULT`, and ProcedureConfig.crowding):
    single optotypes overstate acuity in amblyopia, because crowding / contour interaction from
    contours within about one letter width lowers it (Stuart & Burian 1962; Flom, Weymouth &
    Kahneman 1963), and a chart reading is always crowded.

    Returns {"gap_strokes", "bar_thickness_strokes", "bar_length_strokes", "bars": [{"side", "x", "y",
    "width", "height"}, ...], "path": SVG path of all four bars, "fill_rule", "view_box": [x, y, w, h]
    that holds the optotype and its bars}.
    """
    if isinstance(gap_strokes, bool) or not isinstance(gap_strokes, (int, float)):
        raise OptotypeError(f"gap_strokes must be a number of strokes, got {gap_strokes!r}")
    if not (math.isfinite(gap_strokes) and 0 < gap_strokes <= 4 * GRID_STROKES):
        raise OptotypeError(
            f"gap_strokes must be between 0 and {4 * GRID_STROKES} strokes (default {CROWDING_GAP_STROKES}: "
            f"one letter width), got {gap_strokes!r}"
        )
    gap = float(gap_strokes)
    thick, length, size = CROWDING_BAR_THICKNESS_STROKES, CROWDING_BAR_LENGTH_STROKES, GRID_STROKES
    along = (size - length) / 2  # bars centred on the optotype's axis
    rects = {
        "left": (-gap - thick, along, thick, length),
        "right": (size + gap, along, thick, length),
        "top": (along, -gap - thick, length, thick),
        "bottom": (along, size + gap, length, thick),
    }
    path = PathBuilder()
    bars = []
    for side in _CROWDING_SIDES:
        x, y, width, height = rects[side]
        bars.append({"side": side, "x": x, "y": y, "width": width, "height": height})
        path.polygon([(x, y), (x + width, y), (x + width, y + height), (x, y + height)])
    margin = gap + thick
    return {
        "gap_strokes": gap,
        "bar_thickness_strokes": thick,
        "bar_length_strokes": length,
        "bars": bars,
        "path": path.d(),
        "fill_rule": FILL_RULE,
        "view_box": [-margin, -margin, size + 2 * margin, size + 2 * margin],
    }


def all_geometry() -> dict:
    """Everything the browser draws optotypes from (served as /optotypes.json), JSON-serialisable.

    {"grid": 5, "units": ..., "fill_rule": "evenodd", "ink": "#000000", "background": "#ffffff",
     "view_box": [0, 0, 5, 5], "sets": {name: {"guess_rate", "symbols": {symbol: path}, ...}},
     "crowding": crowding_bars(), "crowded_by_default": true, "chart_letter_gap_strokes": 5.0}
    The browser scales the 5-unit grid to the optotype height it is told and fills each path with
    the even-odd rule; it never chooses shapes of its own.
    """
    return {
        "grid": GRID_STROKES,
        "units": "strokes; x right, y down; the optotype occupies 0..5 x 0..5",
        "fill_rule": FILL_RULE,
        "ink": INK_COLOUR,
        "background": BACKGROUND_COLOUR,
        "view_box": [0, 0, GRID_STROKES, GRID_STROKES],
        "sets": {name: optotype_geometry(name) for name in OPTOTYPE_SETS},
        "crowding": crowding_bars(),
        "crowded_by_default": CROWDED_BY_DEFAULT,
        # Bailey-Lovie / ETDRS: letters in a chart row are one letter width apart, edge to edge.
        "chart_letter_gap_strokes": CROWDING_GAP_STROKES,
    }
