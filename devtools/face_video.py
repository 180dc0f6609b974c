"""Camera frames of a real face at known distances, for the webcam distance guard's browser test and
benchmark (bench/distance_guard.py): scikit-image's bundled `astronaut` photograph (a public-domain
NASA portrait) drawn as a pinhole camera sees a flat picture of it, written as a YUV4MPEG2 (.y4m) file
that Chromium plays as its camera (`--use-fake-device-for-media-stream
--use-file-for-fake-video-capture=<file>`).

Pinhole model: an object of width W mm at distance Z mm is f * W / Z pixels wide, f being the focal
length in pixels (f = (frame width / 2) / tan(horizontal field of view / 2)). The photo's scale is
fixed by its eye spacing: PHOTO_EYE_SPACING_PX photo pixels stand for EYE_SPACING_MM. Only ratios of
distances matter to the guard (it compares with a reference taken at the mark), so the absolute
scale is a plausible adult figure, not a measurement of this face.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The distance between the eyes' centres (each the midpoint of its two corners), a typical adult
# figure (interpupillary distance about 63 mm; Dodgson 2004, "Variation and extrema of human
# interpupillary distance", Proc. SPIE 5291).
EYE_SPACING_MM = 63.0
# The same spacing in the 512 x 512 astronaut photo, measured once on it with the face landmark model
# (midpoints of landmarks 33/133 and 362/263).
PHOTO_EYE_SPACING_PX = 43.0
# A grey background around the photo, as a wall behind the patient.
BACKGROUND = 118


@dataclass(frozen=True)
class Camera:
    width_px: int
    height_px: int
    focal_px: float

    @classmethod
    def with_fov(cls, width_px: int, height_px: int, horizontal_fov_deg: float) -> Camera:
        return cls(width_px, height_px, (width_px / 2) / math.tan(math.radians(horizontal_fov_deg) / 2))

    def eye_spacing_px(self, distance_mm: float) -> float:
        """How many frame pixels apart the eyes are at `distance_mm` (the pinhole model)."""
        return self.focal_px * EYE_SPACING_MM / distance_mm


def astronaut() -> np.ndarray:
    """The photo as float RGB (512 x 512 x 3, 0..255)."""
    from skimage import data  # scikit-image: requirements-test.txt

    return data.astronaut().astype(np.float32)


# A small square in the top-left corner tells a benchmark which frames are the ones to measure
# (white) and which are the way there (black).
MARKER_PX = 8


# The most the face shrinks from one step of a walk to the next in the bench's walks (the model
# follows a face from frame to frame; a slow machine measures one frame of each step at least).
WALK_STEP_RATIO = 1.2


def walk_back(from_mm: float, to_mm: float, steps: int, seconds_per_step: float) -> list[tuple[float, float]]:
    """A walk from `from_mm` to `to_mm` as a `write_y4m` schedule: `steps` stays, equal ratios apart
    (the face shrinks by the same factor at each), each held `seconds_per_step` so that a slow
    computer still measures every one of them (the model follows a face from frame to frame)."""
    ratio = (to_mm / from_mm) ** (1 / steps)
    return [(from_mm * ratio**i, seconds_per_step) for i in range(1, steps + 1)]


def render(
    photo: np.ndarray, camera: Camera, distance_mm: float, offset_px: tuple[float, float] = (0, 0)
) -> np.ndarray:
    """One RGB uint8 frame: the photo scaled for `distance_mm`, centred (plus `offset_px`) on grey.
    Bilinear sampling by inverse mapping, with the photo box-filtered first when it shrinks a lot."""
    scale = camera.eye_spacing_px(distance_mm) / PHOTO_EYE_SPACING_PX  # frame px per photo px
    source = photo
    step = 1
    while scale * step < 0.5:  # pre-shrink by 2 (box filter) so bilinear does not alias
        h, w = source.shape[0] // 2 * 2, source.shape[1] // 2 * 2
        source = source[:h, :w].reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))
        step *= 2
    s = scale * step
    h, w = camera.height_px, camera.width_px
    # the frame's centre shows the point between the eyes (the face is in the photo's upper middle)
    cy, cx = source.shape[0] * 0.2, source.shape[1] * 0.44
    # Only the box the photo can cover (a pixel's margin) is sampled; the rest is background (a far
    # face covers a small part of the frame).
    x0 = max(0, math.floor(w / 2 + offset_px[0] - cx * s) - 1)
    x1 = min(w, math.ceil(w / 2 + offset_px[0] + (source.shape[1] - 1 - cx) * s) + 2)
    y0 = max(0, math.floor(h / 2 + offset_px[1] - cy * s) - 1)
    y1 = min(h, math.ceil(h / 2 + offset_px[1] + (source.shape[0] - 1 - cy) * s) + 2)
    frame = np.full((h, w, 3), BACKGROUND, np.uint8)
    if x0 >= x1 or y0 >= y1:
        return frame
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    u = (xs - w / 2 - offset_px[0]) / s + cx
    v = (ys - h / 2 - offset_px[1]) / s + cy
    inside = (u >= 0) & (v >= 0) & (u <= source.shape[1] - 1) & (v <= source.shape[0] - 1)
    u0 = np.clip(np.floor(u).astype(int), 0, source.shape[1] - 2)
    v0 = np.clip(np.floor(v).astype(int), 0, source.shape[0] - 2)
    fu = np.clip(u - u0, 0, 1)[..., None]
    fv = np.clip(v - v0, 0, 1)[..., None]
    top = source[v0, u0] * (1 - fu) + source[v0, u0 + 1] * fu
    bottom = source[v0 + 1, u0] * (1 - fu) + source[v0 + 1, u0 + 1] * fu
    out = np.where(inside[..., None], top * (1 - fv) + bottom * fv, BACKGROUND)
    frame[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return frame


def degrade(frame: np.ndarray, rng: np.random.Generator, gain: float = 0.45, noise_sd: float = 6.0) -> np.ndarray:
    """A dim, noisy frame (a room lit from behind, a cheap sensor)."""
    noisy = frame.astype(np.float32) * gain + rng.normal(0, noise_sd, frame.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def to_i420(rgb: np.ndarray) -> bytes:
    """RGB -> YUV 4:2:0 planar (BT.601 limited range), as a y4m frame carries it."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    h, w = y.shape
    u = u.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    v = v.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    return b"".join(np.clip(p + 0.5, 0, 255).astype(np.uint8).tobytes() for p in (y, u, v))


def write_y4m(
    path: Path,
    camera: Camera,
    schedule: list[tuple[float | None, float]],
    fps: int = 10,
    *,
    dim: bool = False,
    walk_from_mm: float | None = None,
    walk_step_s: float = 2.0,
) -> Path:
    """A .y4m of the face at each (distance_mm, seconds) of `schedule`, in order, marked white; a
    distance of None is the empty room (no face in the frame). With `walk_from_mm` each stay is
    preceded by 2 s at that distance and a walk from there in steps of at most 20% held `walk_step_s`
    each (`walk_back`), marked black (the face found close up, then followed back). `dim`: dim and noisy frames. Chromium plays the file at `fps` and starts
    again at the end."""
    photo = astronaut()
    rng = np.random.default_rng(7)
    path = Path(path)

    drawn: dict[tuple[float | None, int], bytes] = {}  # a distance the schedule comes back to is drawn once

    def frame(distance_mm: float | None, marker: int) -> bytes:
        if not dim and (distance_mm, marker) in drawn:
            return drawn[distance_mm, marker]
        if distance_mm is None:
            rgb = np.full((camera.height_px, camera.width_px, 3), BACKGROUND, np.uint8)
        else:
            rgb = render(photo, camera, distance_mm)
        if dim:
            rgb = degrade(rgb, rng)
        rgb[:MARKER_PX, :MARKER_PX] = marker
        data = b"FRAME\n" + to_i420(rgb)
        if not dim:
            drawn[distance_mm, marker] = data
        return data

    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{camera.width_px} H{camera.height_px} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for distance_mm, seconds in schedule:
            if walk_from_mm is not None:
                for _ in range(2 * fps):
                    out.write(frame(walk_from_mm, 0))
                steps = max(1, math.ceil(abs(math.log(distance_mm / walk_from_mm)) / math.log(WALK_STEP_RATIO)))
                for step_mm, step_s in walk_back(walk_from_mm, distance_mm, steps, walk_step_s):
                    still = None if dim else frame(step_mm, 0)
                    for _ in range(max(1, round(step_s * fps))):
                        out.write(still or frame(step_mm, 0))
            still = None if dim else frame(distance_mm, 255)
            for _ in range(max(1, round(seconds * fps))):
                out.write(still or frame(distance_mm, 255))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fov", type=float, default=14.0, help="horizontal field of view, degrees")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument(
        "--at", action="append", default=[], help="DISTANCE_MM:SECONDS, repeatable, in order (default 3000:5)"
    )
    args = parser.parse_args()
    schedule = [tuple(float(x) for x in item.split(":")) for item in args.at] or [(3000.0, 5.0)]
    write_y4m(args.out, Camera.with_fov(args.width, args.height, args.fov), schedule, args.fps)
    print(args.out)


if __name__ == "__main__":
    main()
