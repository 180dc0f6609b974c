"""A small, independent SVG path reader and rasteriser for tests (numpy only).

It reads the path commands M L H V A Z (absolute and relative), flattens circular and elliptical arcs
with the endpoint-to-centre conversion of the SVG specification (SVG 1.1 appendix F.6.5, including
the radius correction of F.6.6), and fills with the "evenodd" or "nonzero" rule by counting signed
edge crossings along a ray to +x. It shares no code with acuity.geometry, so it checks that code
rather than repeating it. Chords are kept within 1e-5 units of the true arc, far below a pixel.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np

_TOKEN = re.compile(r"[MmLlHhVvAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ARGS = {"M": 2, "L": 2, "H": 1, "V": 1, "A": 7, "Z": 0}
ARC_TOLERANCE = 1e-5


class PathSyntaxError(ValueError):
    pass


def _arc_points(x1, y1, rx, ry, phi_deg, large_arc, sweep, x2, y2):
    """Points along an SVG arc from (x1, y1) to (x2, y2), excluding the start, per SVG F.6.5."""
    if (x1, y1) == (x2, y2):
        return []
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        return [(x2, y2)]
    phi = math.radians(phi_deg)
    cos_p, sin_p = math.cos(phi), math.sin(phi)
    dx, dy = (x1 - x2) / 2, (y1 - y2) / 2
    x1p = cos_p * dx + sin_p * dy
    y1p = -sin_p * dx + cos_p * dy
    lam = (x1p / rx) ** 2 + (y1p / ry) ** 2
    if lam > 1:  # F.6.6: radii too small, scale them up
        rx, ry = rx * math.sqrt(lam), ry * math.sqrt(lam)
    num = rx * rx * ry * ry - rx * rx * y1p * y1p - ry * ry * x1p * x1p
    den = rx * rx * y1p * y1p + ry * ry * x1p * x1p
    coef = math.sqrt(max(0.0, num / den))
    if large_arc == sweep:
        coef = -coef
    cxp, cyp = coef * rx * y1p / ry, -coef * ry * x1p / rx
    cx = cos_p * cxp - sin_p * cyp + (x1 + x2) / 2
    cy = sin_p * cxp + cos_p * cyp + (y1 + y2) / 2

    def angle(ux, uy, vx, vy):
        a = math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)
        return a

    ux, uy = (x1p - cxp) / rx, (y1p - cyp) / ry
    vx, vy = (-x1p - cxp) / rx, (-y1p - cyp) / ry
    theta1 = angle(1, 0, ux, uy)
    dtheta = angle(ux, uy, vx, vy)
    if not sweep and dtheta > 0:
        dtheta -= 2 * math.pi
    elif sweep and dtheta < 0:
        dtheta += 2 * math.pi
    r_max = max(rx, ry)
    step = 2 * math.acos(max(-1.0, 1 - ARC_TOLERANCE / r_max))
    n = max(2, math.ceil(abs(dtheta) / step))
    points = []
    for i in range(1, n + 1):
        t = theta1 + dtheta * i / n
        ex, ey = rx * math.cos(t), ry * math.sin(t)
        points.append((cos_p * ex - sin_p * ey + cx, sin_p * ex + cos_p * ey + cy))
    points[-1] = (x2, y2)
    return points


def parse_path(d: str) -> list[np.ndarray]:
    """The closed polygons (arrays of shape (n, 2)) that path data `d` outlines."""
    tokens = _TOKEN.findall(d)
    if "".join(tokens).replace(" ", "") != re.sub(r"[\s,]+", "", d):
        raise PathSyntaxError(f"path data has characters this reader does not understand: {d[:80]!r}")
    polygons: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] | None = None
    x = y = start_x = start_y = 0.0
    i = 0
    command = None
    while i < len(tokens):
        tok = tokens[i]
        if tok.isalpha():
            command = tok
            i += 1
            if command in "Zz":
                if current is not None:
                    polygons.append(current)
                current = None
                x, y = start_x, start_y
                continue
        elif command is None:
            raise PathSyntaxError("path data must start with a command")
        upper = command.upper()
        n = _ARGS[upper]
        args = [float(t) for t in tokens[i : i + n]]
        if len(args) != n or any(t.isalpha() for t in tokens[i : i + n]):
            raise PathSyntaxError(f"command {command} needs {n} numbers")
        i += n
        rel = command.islower()
        if upper == "M":
            x, y = (x + args[0], y + args[1]) if rel else (args[0], args[1])
            if current is not None:
                polygons.append(current)
            current = [(x, y)]
            start_x, start_y = x, y
            command = "l" if rel else "L"  # further pairs are implicit line-tos
            continue
        if current is None:  # drawing after Z starts a new sub-path at the last start point
            current = [(x, y)]
        if upper == "L":
            x, y = (x + args[0], y + args[1]) if rel else (args[0], args[1])
            current.append((x, y))
        elif upper == "H":
            x = x + args[0] if rel else args[0]
            current.append((x, y))
        elif upper == "V":
            y = y + args[0] if rel else args[0]
            current.append((x, y))
        elif upper == "A":
            rx, ry, phi, large, sweep, ex, ey = args
            if rel:
                ex, ey = x + ex, y + ey
            current.extend(_arc_points(x, y, rx, ry, phi, int(large), int(sweep), ex, ey))
            x, y = ex, ey
    if current is not None:
        polygons.append(current)
    return [np.asarray(p, dtype=float) for p in polygons if len(p) >= 2]


@functools.lru_cache(maxsize=256)
def _edges(d: str) -> np.ndarray:
    """All edges (x0, y0, x1, y1) of the path's polygons, each polygon closed (read-only, cached)."""
    rows = []
    for poly in parse_path(d):
        closed = np.vstack([poly, poly[:1]])
        rows.append(np.hstack([closed[:-1], closed[1:]]))
    edges = np.vstack(rows)
    edges.flags.writeable = False
    return edges


def _fill(winding: np.ndarray, crossings: np.ndarray, rule: str) -> np.ndarray:
    if rule == "evenodd":
        return crossings % 2 == 1
    if rule == "nonzero":
        return winding != 0
    raise ValueError(f"fill rule must be 'evenodd' or 'nonzero', got {rule!r}")


def inside(d: str, xs, ys, rule: str = "evenodd") -> np.ndarray:
    """Whether each point (xs[i], ys[i]) is filled by path `d` under the fill rule."""
    edges = _edges(d)
    x0, y0, x1, y1 = (edges[:, k] for k in range(4))
    xs = np.asarray(xs, dtype=float).ravel()
    ys = np.asarray(ys, dtype=float).ravel()
    out = np.empty(xs.shape, dtype=bool)
    for start in range(0, len(xs), 2000):
        px = xs[start : start + 2000, None]
        py = ys[start : start + 2000, None]
        up = (y0 <= py) & (py < y1)
        down = (y1 <= py) & (py < y0)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        hit = (up | down) & (x_cross > px)
        crossings = hit.sum(axis=1)
        winding = (hit & up).sum(axis=1) - (hit & down).sum(axis=1)
        out[start : start + 2000] = _fill(winding, crossings, rule)
    return out


def rasterise(d: str, px_per_unit: int, bounds=(0.0, 0.0, 5.0, 5.0), rule: str = "evenodd") -> np.ndarray:
    """Boolean image (rows = y, columns = x) of path `d`, sampled at pixel centres.

    Pixel (row i, column j) has its centre at (x_min + (j + 0.5) / px_per_unit,
    y_min + (i + 0.5) / px_per_unit); bounds = (x_min, y_min, x_max, y_max) in path units.
    """
    x_min, y_min, x_max, y_max = bounds
    cols = round((x_max - x_min) * px_per_unit)
    rows = round((y_max - y_min) * px_per_unit)
    centres_x = x_min + (np.arange(cols) + 0.5) / px_per_unit
    centres_y = y_min + (np.arange(rows) + 0.5) / px_per_unit
    edges = _edges(d)
    x0, y0, x1, y1 = (edges[:, k] for k in range(4))
    py = centres_y[:, None]
    up = (y0 <= py) & (py < y1)
    down = (y1 <= py) & (py < y0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = np.where(up | down, x0 + (py - y0) * (x1 - x0) / (y1 - y0), np.inf)
    sign = np.where(up, 1, np.where(down, -1, 0))
    image = np.zeros((rows, cols), dtype=bool)
    for i in range(rows):
        active = np.isfinite(x_cross[i])
        if not active.any():
            continue
        xs = x_cross[i, active]
        signs = sign[i, active]
        order = np.argsort(xs)
        xs, signs = xs[order], signs[order]
        # crossings to the right of a pixel centre = total - those at or left of it
        left = np.searchsorted(xs, centres_x, side="right")
        crossings = len(xs) - left
        suffix = np.concatenate([np.cumsum(signs[::-1])[::-1], [0]])
        winding = suffix[left]
        image[i] = _fill(winding, crossings, rule)
    return image


def runs(samples: np.ndarray) -> list[tuple[bool, int]]:
    """Run-length encoding of a 1-D boolean array: [(value, length), ...]."""
    samples = np.asarray(samples, dtype=bool)
    if samples.size == 0:
        return []
    change = np.flatnonzero(samples[1:] != samples[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [samples.size]])
    return [(bool(samples[s]), int(e - s)) for s, e in zip(starts, ends, strict=False)]


def distance_to_outside(mask: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance, in pixels, from each True pixel to the nearest False pixel.

    Pixels beyond the image border count as False. Two passes of a brute-force exact transform:
    first the vertical distance to background in each column, then, per row, the minimum of
    g(k)^2 + (j - k)^2 over all columns k. False pixels get 0.
    """
    mask = np.pad(np.asarray(mask, dtype=bool), 1)
    rows, cols = mask.shape
    big = rows + cols
    down = np.zeros(mask.shape)
    up = np.zeros(mask.shape)
    for i in range(1, rows):
        down[i] = np.where(mask[i], down[i - 1] + 1, 0)
    for i in range(rows - 2, -1, -1):
        up[i] = np.where(mask[i], up[i + 1] + 1, 0)
    vertical = np.minimum(np.minimum(down, up), big)
    j = np.arange(cols)
    offsets_sq = (j[:, None] - j[None, :]) ** 2
    result = np.empty(mask.shape)
    for i in range(rows):
        result[i] = np.min(vertical[i][None, :] ** 2 + offsets_sq, axis=1)
    return np.sqrt(result)[1:-1, 1:-1]


def opening_retained(mask: np.ndarray, radius_px: float) -> float:
    """Fraction of the ink kept by a morphological opening with a disk of radius `radius_px`.

    An opening keeps exactly the points covered by some disk of that radius lying inside the ink,
    so it keeps (nearly) all of a stroke wider than 2 * radius and (nearly) none of a narrower one.
    """
    mask = np.asarray(mask, dtype=bool)
    eroded = distance_to_outside(mask) > radius_px
    if not eroded.any():
        return 0.0
    opened = (distance_to_outside(~eroded) <= radius_px) & mask
    return float(opened.sum() / mask.sum())


def chord_lengths(d: str, x: float, y: float, angles_deg) -> np.ndarray:
    """Length of the filled chord through the inside point (x, y) along each direction.

    For each angle the line through (x, y) is cut at the nearest path edge on either side; the
    chord is the distance between those two cuts. Valid when (x, y) is inside the shape.
    """
    edges = _edges(d)
    ex0, ey0 = edges[:, 0], edges[:, 1]
    ux, uy = edges[:, 2] - ex0, edges[:, 3] - ey0
    a = np.radians(np.asarray(angles_deg, dtype=float))[:, None]
    dx, dy = np.cos(a), np.sin(a)
    # Solve (x, y) + t (dx, dy) = (ex0, ey0) + s (ux, uy) for t (along the line) and s (on the edge).
    den = dx * uy - dy * ux
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((ex0 - x) * uy - (ey0 - y) * ux) / den
        s = ((ex0 - x) * dy - (ey0 - y) * dx) / den
    valid = (den != 0) & (s >= 0) & (s <= 1)
    forward = np.where(valid & (t > 0), t, np.inf).min(axis=1)
    backward = np.where(valid & (t < 0), -t, np.inf).min(axis=1)
    return forward + backward


def local_width(d: str, x: float, y: float, step_deg: float = 0.25) -> float:
    """Width of the stroke at an inside point: the shortest chord through it over all directions."""
    return float(chord_lengths(d, x, y, np.arange(0.0, 180.0, step_deg)).min())


def inside_along_line(d: str, start, direction, ts, rule: str = "evenodd") -> np.ndarray:
    """Whether each point start + t * direction (t in `ts`) is filled; fast for many points on one line.

    The crossing ray of every point runs along the line itself, so the path's edges are cut with
    the line once and each point only counts the cuts beyond it (same half-open rule as `inside`).
    """
    sx, sy = start
    norm = math.hypot(*direction)
    dx, dy = direction[0] / norm, direction[1] / norm
    edges = _edges(d)
    ex, ey = edges[:, [0, 2]] - sx, edges[:, [1, 3]] - sy
    u = ex * dx + ey * dy  # along the line
    v = -ex * dy + ey * dx  # across it
    up = (v[:, 0] <= 0) & (0 < v[:, 1])
    down = (v[:, 1] <= 0) & (0 < v[:, 0])
    hit = up | down
    u_cross = u[hit, 0] + (0 - v[hit, 0]) * (u[hit, 1] - u[hit, 0]) / (v[hit, 1] - v[hit, 0])
    signs = np.where(up[hit], 1, -1)
    order = np.argsort(u_cross)
    u_cross, signs = u_cross[order], signs[order]
    ts = np.asarray(ts, dtype=float)
    left = np.searchsorted(u_cross, ts, side="right")
    crossings = len(u_cross) - left
    suffix = np.concatenate([np.cumsum(signs[::-1])[::-1], [0]])
    return _fill(suffix[left], crossings, rule)
