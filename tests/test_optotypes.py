"""Optotype geometry, checked as geometry: each path is read and filled by
tests/support/svgraster.py (an independent SVG reader and even-odd rasteriser) and measured, never
compared as text."""

from __future__ import annotations

import functools
import itertools
import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acuity import optotypes as opt
from acuity.procedure import ProcedureConfig
from tests.support.svgraster import (
    inside,
    inside_along_line,
    local_width,
    opening_retained,
    parse_path,
    rasterise,
    runs,
)

PX = 100  # pixels per stroke for the fine rasters
STEP = 0.0005  # strokes between samples on scan lines
TOL = 0.003  # strokes: a few scan steps, far below 5% of a stroke (ISO 10938's tolerance)

ALL_SHAPES = [(s.name, symbol) for s in opt.OPTOTYPE_SETS.values() for symbol in s.symbols]
SLOAN = opt.SLOAN.symbols
E_DIRECTIONS = opt.TUMBLING_E.symbols
C_DIRECTIONS = opt.LANDOLT_C8.symbols
# What the direction names mean, as the patient sees them: degrees anticlockwise from "right".
# Written out here rather than taken from the module, so a wrong mapping there fails the tests.
EXPECTED_DEG = {
    "right": 0,
    "up-right": 45,
    "up": 90,
    "up-left": 135,
    "left": 180,
    "down-left": 225,
    "down": 270,
    "down-right": 315,
}
# Screen unit vectors (y down) for the direction names.
UNIT = {name: (math.cos(math.radians(deg)), -math.sin(math.radians(deg))) for name, deg in EXPECTED_DEG.items()}


@functools.cache
def raster(set_name: str, symbol: str, px: int = PX, rule: str = "evenodd") -> np.ndarray:
    return rasterise(opt.optotype_path(set_name, symbol), px, rule=rule)


def ink_intervals(d: str, start, direction, length: float) -> list[tuple[float, float]]:
    """Inked intervals (t0, t1) along start + t * direction, 0 <= t <= length (direction a unit vector)."""
    t = np.arange(0.0, length + STEP / 2, STEP)
    filled = inside_along_line(d, start, direction, t)
    out, pos = [], 0
    for value, n in runs(filled):
        if value:
            out.append((pos * STEP, (pos + n - 1) * STEP))
        pos += n
    return out


def assert_intervals(found, expected, tol=TOL):
    assert len(found) == len(expected), f"ink runs {found}, expected {expected}"
    for (a0, a1), (b0, b1) in zip(found, expected, strict=False):
        assert abs(a0 - b0) <= tol and abs(a1 - b1) <= tol, f"ink runs {found}, expected {expected}"


# --- the public API --------------------------------------------------------------------------------


def test_set_definitions_are_unchanged():
    assert opt.SLOAN.symbols == ("C", "D", "H", "K", "N", "O", "R", "S", "V", "Z")
    assert opt.TUMBLING_E.symbols == ("right", "up", "left", "down")
    assert opt.LANDOLT_C8.symbols == (
        "right",
        "up-right",
        "up",
        "up-left",
        "left",
        "down-left",
        "down",
        "down-right",
    )
    assert opt.LANDOLT_C4.symbols == ("right", "up", "left", "down")
    assert opt.HOTV.symbols == ("H", "O", "T", "V")
    assert [s.guess_rate for s in opt.OPTOTYPE_SETS.values()] == [1 / 10, 1 / 4, 1 / 8, 1 / 4, 1 / 4]
    assert opt.optotype_set("sloan") is opt.SLOAN


@pytest.mark.parametrize("set_name", list(opt.OPTOTYPE_SETS))
def test_geometry_of_a_set_has_every_symbol_and_its_guess_rate(set_name):
    geometry = opt.optotype_geometry(set_name)
    chosen = opt.optotype_set(set_name)
    assert list(geometry["symbols"]) == list(chosen.symbols)
    assert geometry["guess_rate"] == chosen.guess_rate
    assert geometry["fill_rule"] == "evenodd" and geometry["grid"] == 5
    for symbol, path in geometry["symbols"].items():
        assert path == opt.optotype_path(set_name, symbol)


def test_all_geometry_is_json_and_says_how_to_draw():
    geometry = opt.all_geometry()
    assert json.loads(json.dumps(geometry)) == geometry
    assert geometry["grid"] == 5 and geometry["fill_rule"] == "evenodd"
    assert (geometry["ink"], geometry["background"]) == ("#000000", "#ffffff")
    assert set(geometry["sets"]) == set(opt.OPTOTYPE_SETS)
    assert geometry["crowding"] == opt.crowding_bars()
    assert geometry["crowded_by_default"] is True
    assert geometry["chart_letter_gap_strokes"] == 5


def test_crowded_by_default_here_and_in_the_procedure_contract():
    assert opt.CROWDED_BY_DEFAULT is True
    assert ProcedureConfig().crowding is opt.CROWDED_BY_DEFAULT
    doc = opt.crowding_bars.__doc__
    assert "default" in doc and "amblyopia" in doc and "Flom" in doc and "Stuart & Burian" in doc


@pytest.mark.parametrize("set_name,symbol", ALL_SHAPES)
def test_paths_use_only_lines_and_circular_arcs_inside_the_grid(set_name, symbol):
    d = opt.optotype_path(set_name, symbol)
    assert set(re.findall(r"[A-Za-z]", d)) <= {"M", "L", "A", "Z"}
    for rx, ry, rotation, large, _sweep, _x, _y in re.findall(r"A (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)", d):
        assert rx == ry and rotation == "0" and large == "0"  # circles, each piece <= 90 degrees
    for polygon in parse_path(d):
        assert polygon.min() >= 0 and polygon.max() <= 5


@pytest.mark.parametrize(
    "call",
    [
        lambda: opt.optotype_path("sloan", "Q"),
        lambda: opt.optotype_path("sloan", "c"),
        lambda: opt.optotype_path("landolt_c4", "up-right"),  # an 8-position symbol, not a 4-position one
        lambda: opt.optotype_path("tumbling_e", None),
        lambda: opt.optotype_path("snellen", "E"),
        lambda: opt.optotype_geometry("landolt"),
        lambda: opt.crowding_bars(0),
        lambda: opt.crowding_bars(-5),
        lambda: opt.crowding_bars(float("nan")),
        lambda: opt.crowding_bars("5"),
        lambda: opt.crowding_bars(True),
        lambda: opt.crowding_bars(1000),
        lambda: opt.landolt_c_path(float("inf")),
        lambda: opt.landolt_c_path(True),
        lambda: opt.landolt_c_path("up"),
    ],
)
def test_bad_names_and_values_raise_value_error_saying_what_to_use(call):
    with pytest.raises(ValueError) as raised:
        call()
    message = str(raised.value)
    assert "choose one of" in message or "must be" in message


def test_unknown_symbol_message_lists_the_symbols_of_that_set():
    with pytest.raises(ValueError, match="right, up, left, down"):
        opt.optotype_path("landolt_c4", "up-right")


# --- every shape ----------------------------------------------------------------------------------


@pytest.mark.parametrize("set_name,symbol", ALL_SHAPES)
def test_holes_are_drawn_so_nonzero_and_evenodd_agree(set_name, symbol):
    assert np.array_equal(raster(set_name, symbol, 25), raster(set_name, symbol, 25, "nonzero"))


def ink_box(image: np.ndarray) -> tuple[float, float, float, float]:
    """(x_min, y_min, x_max, y_max) of the ink in strokes, from pixel edges."""
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    return cols[0] / PX, rows[0] / PX, (cols[-1] + 1) / PX, (rows[-1] + 1) / PX


@pytest.mark.parametrize(
    "set_name,symbol",
    [("sloan", s) for s in SLOAN if s != "C"]
    + [("hotv", s) for s in opt.HOTV.symbols]
    + [("tumbling_e", s) for s in E_DIRECTIONS]
    + [("landolt_c8", s) for s in ("up-right", "up-left", "down-left", "down-right")],
)
def test_ink_fills_the_5_by_5_box(set_name, symbol):
    x0, y0, x1, y1 = ink_box(raster(set_name, symbol))
    assert max(abs(x0), abs(y0), abs(x1 - 5), abs(y1 - 5)) <= 0.02


@pytest.mark.parametrize("direction", ["right", "up", "left", "down"])
def test_cardinal_landolt_c_spans_5_across_its_gap_and_less_along_it(direction):
    """The gap cuts the outermost point on its own side: the ink reaches 2.5 + sqrt(2.5^2 - 0.5^2)."""
    x0, y0, x1, y1 = ink_box(raster("landolt_c8", direction))
    along_gap = 2.5 + math.sqrt(2.5**2 - 0.5**2)
    expected = {
        "right": (0, 0, along_gap, 5),
        "left": (5 - along_gap, 0, 5, 5),
        "up": (0, 5 - along_gap, 5, 5),
        "down": (0, 0, 5, along_gap),
    }[direction]
    assert np.allclose((x0, y0, x1, y1), expected, atol=0.02)
    assert np.array_equal(raster("sloan", "C"), raster("landolt_c8", "right"))  # the Sloan C is a Landolt C


@pytest.mark.parametrize("set_name,symbol", ALL_SHAPES)
def test_ink_area_is_plausible(set_name, symbol):
    area = raster(set_name, symbol).sum() / PX**2
    assert 8.99 <= area <= 17.5, f"{set_name} {symbol}: {area:.2f} square strokes of 25"


def _strip_area(radius: float, half_width: float) -> float:
    """Area of {x > 0, |y| < half_width, x^2 + y^2 < radius^2}."""
    return half_width * math.sqrt(radius**2 - half_width**2) + radius**2 * math.asin(half_width / radius)


@pytest.mark.parametrize(
    "set_name,symbol,expected",
    [
        ("sloan", "H", 13.0),
        ("hotv", "T", 9.0),  # a bar 5 x 1 and a stem 1 x 4
        ("sloan", "O", math.pi * (2.5**2 - 1.5**2)),
        ("sloan", "D", 12.5 + math.pi * 2.5**2 / 2 - 4.5 - math.pi * 1.5**2 / 2),
        ("tumbling_e", "up", 17.0),
    ]
    + [
        # ring minus a parallel-sided strip 1 stroke wide: a wedge-shaped gap would have another area
        ("landolt_c8", d, math.pi * (2.5**2 - 1.5**2) - (_strip_area(2.5, 0.5) - _strip_area(1.5, 0.5)))
        for d in C_DIRECTIONS
    ],
)
def test_ink_area_matches_the_construction(set_name, symbol, expected):
    area = raster(set_name, symbol).sum() / PX**2
    assert area == pytest.approx(expected, rel=0.002)


# --- Landolt C (ISO 8596) ---------------------------------------------------------------------------


@pytest.mark.parametrize("direction", C_DIRECTIONS)
def test_landolt_ring_is_one_stroke_thick_along_every_radius_outside_the_gap(direction):
    d = opt.optotype_path("landolt_c8", direction)
    gap_deg = EXPECTED_DEG[direction]
    for k in range(16):
        deg = gap_deg + 30 + k * 20  # 30..330 degrees away from the gap
        ux, uy = math.cos(math.radians(deg)), -math.sin(math.radians(deg))
        assert_intervals(ink_intervals(d, (2.5, 2.5), (ux, uy), 3.0), [(1.5, 2.5)])


@pytest.mark.parametrize("direction", C_DIRECTIONS)
def test_landolt_gap_is_one_stroke_with_parallel_edges_centred_on_its_direction(direction):
    d = opt.optotype_path("landolt_c8", direction)
    ux, uy = UNIT[direction]
    px, py = -uy, ux  # across the gap
    widths = []
    for radius in (1.5, 1.9, 2.4):  # from the inner circle to near the outer one
        start = (2.5 + radius * ux - 1.2 * px, 2.5 + radius * uy - 1.2 * py)
        inked = ink_intervals(d, start, (px, py), 2.4)
        assert len(inked) == 2, f"at radius {radius}: {inked}"
        gap_from, gap_to = inked[0][1] + STEP, inked[1][0]
        widths.append(gap_to - gap_from)
        assert (gap_from + gap_to) / 2 == pytest.approx(1.2, abs=TOL)  # centred on the stated axis
    assert widths == pytest.approx([1.0, 1.0, 1.0], abs=TOL)
    assert max(widths) - min(widths) <= TOL  # parallel: as wide at the inner radius as at the outer


def _gap_on_circle(d: str, radius: float = 2.0) -> tuple[float, float]:
    """(centre, width) in degrees anticlockwise of the single unfilled arc on a circle through the ring.

    Sampled every 0.25 degrees to find the gap, then each edge of it bisected to 1e-6 degrees.
    """

    def filled(deg):
        rad = np.radians(np.asarray(deg, dtype=float))
        return inside(d, 2.5 + radius * np.cos(rad), 2.5 - radius * np.sin(rad))

    coarse = np.arange(0.0, 360.0, 0.25)
    ink = filled(coarse)
    starts = np.flatnonzero(ink & ~np.roll(ink, -1))  # last ink sample before a gap
    ends = np.flatnonzero(~ink & np.roll(ink, -1))  # last gap sample before ink
    assert len(starts) == 1 and len(ends) == 1, f"expected one gap, found {len(starts)}"

    def edge(lo: float, hi: float, ink_at_lo: bool) -> float:
        for _ in range(30):
            mid = (lo + hi) / 2
            if filled([mid])[0] == ink_at_lo:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    first = edge(coarse[starts[0]], coarse[starts[0]] + 0.25, True)
    last = edge(coarse[ends[0]], coarse[ends[0]] + 0.25, False)
    width = (last - first) % 360
    return (first + width / 2) % 360, width


@pytest.mark.parametrize("direction", C_DIRECTIONS)
def test_landolt_has_one_gap_pointing_the_named_way(direction):
    centre, width = _gap_on_circle(opt.optotype_path("landolt_c8", direction))
    assert (centre - EXPECTED_DEG[direction] + 180) % 360 - 180 == pytest.approx(0, abs=0.05)
    assert width == pytest.approx(2 * math.degrees(math.asin(0.5 / 2.0)), abs=0.05)


def test_landolt_c4_is_the_c8_at_the_four_cardinal_positions():
    for direction in opt.LANDOLT_C4.symbols:
        assert np.array_equal(raster("landolt_c4", direction), raster("landolt_c8", direction))


@settings(max_examples=25, deadline=None)
@given(st.floats(min_value=-720, max_value=720, allow_nan=False))
def test_any_gap_angle_gives_the_same_ring_turned(angle_deg):
    d = opt.landolt_c_path(angle_deg)
    centre, width = _gap_on_circle(d)
    assert (centre - angle_deg + 180) % 360 - 180 == pytest.approx(0, abs=0.05)
    assert width == pytest.approx(2 * math.degrees(math.asin(0.25)), abs=0.05)
    opposite = math.radians(angle_deg + 180)
    assert local_width(d, 2.5 + 2 * math.cos(opposite), 2.5 - 2 * math.sin(opposite)) == pytest.approx(1, abs=1e-3)


# --- tumbling E ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", E_DIRECTIONS)
def test_e_has_three_bars_and_two_gaps_of_one_stroke_and_opens_the_named_way(direction):
    d = opt.optotype_path("tumbling_e", direction)
    ux, uy = UNIT[direction]  # the way the limbs point
    px, py = -uy, ux
    c = 2.5
    # Across the limbs, 1.5 strokes out from the centre towards their ends: bar, gap, bar, gap, bar.
    start = (c + 1.5 * ux - 3 * px, c + 1.5 * uy - 3 * py)
    assert_intervals(ink_intervals(d, start, (px, py), 6), [(0.5, 1.5), (2.5, 3.5), (4.5, 5.5)])
    # Across the spine, 2 strokes back from the centre: one solid run 5 strokes long.
    start = (c - 2 * ux - 3 * px, c - 2 * uy - 3 * py)
    assert_intervals(ink_intervals(d, start, (px, py), 6), [(0.5, 5.5)])
    # Along each gap, from behind the spine to beyond the limbs: spine 1 stroke, then open.
    for side in (-1, 1):
        start = (c - 3 * ux + side * px, c - 3 * uy + side * py)
        assert_intervals(ink_intervals(d, start, (ux, uy), 6), [(0.5, 1.5)])


# --- Sloan letters ------------------------------------------------------------------------------------

# Points well inside one stroke of each letter, away from joins and ends.
STROKE_POINTS = {
    "C": [(0.5, 2.5), (2.5, 0.5), (2.5, 4.5), (1.086, 1.086), (3.914, 3.914)],
    "D": [(0.5, 2.5), (1.75, 0.5), (1.75, 4.5), (4.5, 2.5), (3.914, 1.086), (3.914, 3.914)],
    "H": [(0.5, 1), (0.5, 4), (4.5, 1), (4.5, 4), (2.5, 2.5)],
    "K": [(0.5, 1), (0.5, 4.2), (3.3, 0.75), (3.3, 4.25)],
    "N": [(0.5, 3.5), (4.5, 1.5), (2.5, 2.5)],
    "O": [(0.5, 2.5), (4.5, 2.5), (2.5, 0.5), (2.5, 4.5), (1.086, 1.086), (3.914, 3.914)],
    "R": [(0.5, 4), (2.25, 0.5), (1.75, 2.5), (4.5, 1.5), (3.625, 4)],
    "S": [(3.5, 0.5), (2.5, 2.5), (1.5, 4.5), (0.5, 1.5), (4.5, 3.5)],
    "V": [(1.14, 1.5), (3.86, 1.5)],
    "Z": [(1.5, 0.5), (3.5, 4.5), (2.5, 2.5)],
}


@pytest.mark.parametrize("letter", SLOAN)
def test_sloan_strokes_are_one_stroke_wide_also_on_curves_and_diagonals(letter):
    d = opt.optotype_path("sloan", letter)
    for x, y in STROKE_POINTS[letter]:
        assert inside(d, [x], [y])[0], f"{letter}: ({x}, {y}) should be ink"
        assert local_width(d, x, y) == pytest.approx(1.0, abs=TOL), f"{letter} at ({x}, {y})"


@pytest.mark.parametrize(
    "set_name,symbol", [("sloan", s) for s in SLOAN] + [("tumbling_e", "up"), ("landolt_c8", "up-left")]
)
def test_no_stroke_is_much_thinner_or_thicker_than_one(set_name, symbol):
    """Granulometry: opening the ink with a disk keeps the strokes at least as wide as the disk.

    A disk 0.9 strokes across keeps nearly all ink (nothing thinner than 0.9 apart from the pointed
    ends of diagonal cuts); a disk 1.1 across keeps only the joins (where two strokes meet the ink is
    locally wider), never most of a letter, as it would if strokes were 1.1 or more.
    """
    px = 40
    image = rasterise(opt.optotype_path(set_name, symbol), px, bounds=(-0.5, -0.5, 5.5, 5.5))
    assert opening_retained(image, 0.45 * px) >= 0.92
    assert opening_retained(image, 0.55 * px) <= 0.40


@pytest.mark.parametrize(
    "letter,scans",
    [
        ("H", [((0, 1), (1, 0), [(0, 1), (4, 5)]), ((0, 2.5), (1, 0), [(0, 5)]), ((2.5, 0), (0, 1), [(2, 3)])]),
        ("O", [((0, 2.5), (1, 0), [(0, 1), (4, 5)]), ((2.5, 0), (0, 1), [(0, 1), (4, 5)])]),
        ("C", [((0, 2.5), (1, 0), [(0, 1)]), ((2.5, 0), (0, 1), [(0, 1), (4, 5)])]),
        (
            "D",
            [((0.5, 0), (0, 1), [(0, 5)]), ((1.5, 0), (0, 1), [(0, 1), (4, 5)]), ((0, 2.5), (1, 0), [(0, 1), (4, 5)])],
        ),
        (
            "S",
            [((2.5, 0), (0, 1), [(0, 1), (2, 3), (4, 5)]), ((0, 1.5), (1, 0), [(0, 1)]), ((0, 3.5), (1, 0), [(4, 5)])],
        ),
        ("R", [((0.5, 0), (0, 1), [(0, 5)]), ((2, 0), (0, 1), [(0, 1), (2, 3)]), ((0, 1.5), (1, 0), [(0, 1), (4, 5)])]),
    ],
)
def test_sloan_scan_lines(letter, scans):
    d = opt.optotype_path("sloan", letter)
    for start, direction, expected in scans:
        found = ink_intervals(d, start, direction, 5)
        assert_intervals(found, expected)


def test_z_has_full_width_bars_and_a_centred_diagonal():
    d = opt.optotype_path("sloan", "Z")
    top, diagonal, bottom = ink_intervals(d, (2.5, 0), (0, 1), 5)
    assert_intervals([top, bottom], [(0, 1), (4, 5)])
    assert (diagonal[0] + diagonal[1]) / 2 == pytest.approx(2.5, abs=TOL)
    assert_intervals(ink_intervals(d, (0, 0.5), (1, 0), 5), [(0, 5)])
    assert_intervals(ink_intervals(d, (0, 4.5), (1, 0), 5), [(0, 5)])


def test_sloan_letters_are_all_different():
    """Every pair differs by at least the critical detail (1 square stroke); all but C-O by 20% or more.

    C and O differ only by the gap, by design (the Sloan C is a Landolt C, docs/measurement.md §3).
    """
    images = {letter: raster("sloan", letter, 20) for letter in SLOAN}
    for a, b in itertools.combinations(SLOAN, 2):
        differ = (images[a] ^ images[b]).sum() / 20**2
        union = (images[a] | images[b]).sum() / 20**2
        assert differ >= 0.9, f"{a} and {b} differ by only {differ:.2f} square strokes"
        if {a, b} != {"C", "O"}:
            assert differ / union >= 0.20, f"{a} and {b} differ by only {differ / union:.0%}"


# --- crowding bars ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("gap", [5.0, 2.5, 1])
def test_crowding_bars_are_one_by_five_strokes_at_the_stated_gap_on_all_four_sides(gap):
    bars = opt.crowding_bars(gap)
    assert bars["gap_strokes"] == gap and bars["fill_rule"] == "evenodd"
    d = bars["path"]
    reach = 5 + gap + 3
    # From the optotype's edge outwards along each axis: white for `gap`, then a bar 1 stroke thick.
    for start, direction in [((5, 2.5), (1, 0)), ((0, 2.5), (-1, 0)), ((2.5, 5), (0, 1)), ((2.5, 0), (0, -1))]:
        assert_intervals(ink_intervals(d, start, direction, reach - 5), [(gap, gap + 1)])
    # Along each bar: 5 strokes long, level with the optotype (0..5).
    for start, direction in [
        ((5 + gap + 0.5, -1), (0, 1)),
        ((-gap - 0.5, -1), (0, 1)),
        ((-1, -gap - 0.5), (1, 0)),
        ((-1, 5 + gap + 0.5), (1, 0)),
    ]:
        assert_intervals(ink_intervals(d, start, direction, 7), [(1, 6)])
    # Nothing of the bars inside the optotype's box, and all of them inside the view box.
    x, y, w, h = bars["view_box"]
    image = rasterise(d, 10, bounds=(x - 1, y - 1, x + w + 1, y + h + 1))
    assert image.sum() / 100 == pytest.approx(4 * 5, rel=0.01)
    box = rasterise(d, 10, bounds=(0, 0, 5, 5))
    inner_view = rasterise(d, 10, bounds=(x, y, x + w, y + h))
    assert not box.any() and inner_view.sum() == image.sum()
    assert [b["side"] for b in bars["bars"]] == ["left", "right", "top", "bottom"]


def test_default_crowding_gap_is_one_letter_width():
    bars = opt.crowding_bars()
    assert bars["gap_strokes"] == 5  # Bailey-Lovie: letter spacing = one letter width
    assert bars["view_box"] == [-6, -6, 17, 17]


# --- the path builder (acuity.geometry) -------------------------------------------------------------


def test_path_builder_refuses_paths_it_cannot_write_exactly():
    from acuity.geometry import GeometryError, PathBuilder, fmt

    with pytest.raises(ValueError, match="arc starts at"):
        PathBuilder().move_to(0, 0).arc(2.5, 2.5, 2.5, 0, 90)  # not at the arc's start point
    with pytest.raises(ValueError, match="close"):
        PathBuilder().move_to(0, 0).line_to(1, 0).d()
    with pytest.raises(ValueError, match="move_to"):
        PathBuilder().line_to(1, 1)
    with pytest.raises(GeometryError, match="finite"):
        fmt(float("nan"))
    assert (fmt(-0.0000001), fmt(2.50), fmt(1 / 3)) == ("0", "2.5", "0.333333")


def test_a_full_circle_is_written_as_quarter_arcs_that_read_back_as_the_circle():
    from acuity.geometry import PathBuilder

    d = PathBuilder().move_to(5, 2.5).arc(2.5, 2.5, 2.5, 0, 360).close().d()
    assert d.count("A ") == 4
    area = rasterise(d, PX).sum() / PX**2
    assert area == pytest.approx(math.pi * 2.5**2, rel=0.001)


@pytest.mark.parametrize("letter", ["H", "O", "V"])
def test_hotv_shares_the_sloan_letters_it_has(letter):
    assert opt.optotype_path("hotv", letter) == opt.optotype_path("sloan", letter)


def test_hotv_t_is_a_full_width_bar_and_a_centred_stem_one_stroke_wide():
    image = raster("hotv", "T")
    bar = image[:PX, :].mean()
    stem_rows = image[PX + PX // 2 :, :]
    assert bar == pytest.approx(1.0, abs=0.01)  # the top stroke fills the box's width
    assert stem_rows.sum(axis=1).mean() / PX == pytest.approx(1.0, abs=0.01)  # the stem is 1 stroke wide
    columns = np.nonzero(stem_rows.any(axis=0))[0]
    assert (columns.min() + columns.max() + 1) / 2 / PX == pytest.approx(2.5, abs=0.01)  # centred
