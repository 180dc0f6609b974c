"""How well the webcam distance guard measures: detection rate, error and jitter of the eye spacing
per distance and camera resolution, and milliseconds per frame, in Debian's Chromium (CPU only)
running the vendored face landmarks exactly as the display's camera frame does (webapp/static/js/patient/
face-landmarks.js: eye centres from the eye corners).

The camera is Chromium's fake camera playing a .y4m of scikit-image's `astronaut` photo rendered by
devtools/face_video.py as a pinhole camera with the given field of view sees it. Two ways of finding
the face: `cold` (the face is at the distance from the first frame) and `followed` (found at 0.5 m,
then walked back in steps of at most 20%, each held --step-s seconds: what the page asks of the patient). `dim` frames are darker and noisy.

    python bench/distance_guard.py                      # 1280x720 and 1920x1080, 0.4 to 4 m
    python bench/distance_guard.py --sizes 640x480 --distances 3000 --hold-s 6

Columns: found = frames at the distance with a face / frames measured; error = median spacing against
the pinhole camera's (the photo's scale is fixed once, devtools/face_video.py, so the error's level is
common to all rows and cancels in the guard's ratio to its reference; its change from row to row is
what matters); jitter = SD of the spacing over the frames, in %; median of 1 s = SD of the 1 s medians
the page sends (what the tolerance is compared with); ms/frame = the model's time per frame; load = the machine's 1 minute load average after the row (2 cores
here: above 2, other work took CPU from the browser, and ms/frame grows with it).
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.chromium import BROWSER_ARGS, CHROMIUM, FAKE_MEDIA_ARGS  # noqa: E402
from devtools.face_video import Camera, write_y4m  # noqa: E402

STATIC = Path(__file__).resolve().parents[1] / "webapp" / "static"
ORIGIN = "http://localhost"  # a secure context (the camera needs one); every request is answered below
# The page: the app's own module measures each frame; the corner marker says which frames count.
PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body><video muted playsinline></video>
<script type="module">
import { eyeSpacingPx, loadFaceMesh } from "/static/js/patient/face-landmarks.js";
const video = document.querySelector("video");
const canvas = new OffscreenCanvas(4, 4);
const context = canvas.getContext("2d", { willReadFrequently: true });
window.bench = { frames: [], done: false, error: null };
(async () => {
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: WIDTH, height: HEIGHT } });
    await video.play();
    const mesh = await loadFaceMesh();
    let last = null;
    mesh.onResults((results) => { last = results; });
    const until = performance.now() + LIMIT_MS;
    let acquired = !FOLLOWED; // followed: frames at the distance count once the face was found on the way
    let held = 0;
    while (performance.now() < until && held < HOLD_FRAMES) {
      context.drawImage(video, 0, 0, 4, 4, 0, 0, 4, 4);
      const marked = context.getImageData(1, 1, 1, 1).data[0] > 128;
      const start = performance.now();
      await mesh.send({ image: video });
      const ms = performance.now() - start;
      const landmarks = last?.multiFaceLandmarks?.[0];
      const spacing = landmarks ? eyeSpacingPx(landmarks, video.videoWidth, video.videoHeight) : null;
      window.bench.frames.push({ at: start, marked, ms, spacing });
      if (!marked && spacing !== null) acquired = true;
      if (marked && acquired) held += 1;
    }
  } catch (error) { window.bench.error = String(error); }
  window.bench.done = true;
})();
</script></body></html>"""


def serve(page_html: str):
    def handle(route):
        path = route.request.url[len(ORIGIN) :].split("?", 1)[0]
        if path == "/":
            return route.fulfill(status=200, content_type="text/html", body=page_html)
        if path.startswith("/static/"):
            file = (STATIC / path[len("/static/") :]).resolve()
            if STATIC in file.parents and file.is_file():
                kind = "text/javascript" if file.suffix == ".js" else mimetypes.guess_type(file.name)[0]
                return route.fulfill(
                    status=200, content_type=kind or "application/octet-stream", body=file.read_bytes()
                )
        return route.fulfill(status=404, body="not found")

    return handle


def measure(playwright, video: Path, camera: Camera, hold_frames: int, limit_s: float, followed: bool) -> dict:
    page_html = (
        PAGE.replace("WIDTH", str(camera.width_px))
        .replace("HEIGHT", str(camera.height_px))
        .replace("LIMIT_MS", str(int(limit_s * 1000)))
        .replace("HOLD_FRAMES", str(hold_frames))
        .replace("FOLLOWED", "true" if followed else "false")
    )
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=BROWSER_ARGS + FAKE_MEDIA_ARGS + [f"--use-file-for-fake-video-capture={video}"]
    )
    try:
        page = browser.new_page()
        page.route(f"{ORIGIN}/**", serve(page_html))
        page.goto(f"{ORIGIN}/")
        deadline = time.monotonic() + limit_s + 120
        while not page.evaluate("window.bench && window.bench.done"):
            if time.monotonic() > deadline:  # a starved machine: the frames measured so far, said so
                bench = page.evaluate("window.bench")
                if not bench:
                    return {"error": "the bench page did not start (its module did not load)"}
                return (
                    {**bench, "error": None, "cut": True} if bench["frames"] else {**bench, "error": "no frame in time"}
                )
            time.sleep(0.5)
        return page.evaluate("window.bench")
    finally:
        browser.close()


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages (the ms/frame column depends on them)."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def summarise(frames: list[dict], truth_px: float, followed: bool = False) -> dict:
    if followed:
        # "Found close, then walked back": count from the first face found on the way (unmarked frames);
        # frames at the distance before that are a cold start (the model was still loading).
        start = next((i for i, f in enumerate(frames) if not f["marked"] and f["spacing"] is not None), len(frames))
        frames = frames[start:]
    held = [f for f in frames if f["marked"]]
    found = [f["spacing"] for f in held if f["spacing"] is not None]
    row = {
        "measured": len(held),
        "found": len(found),
        "ms": statistics.median(f["ms"] for f in frames) if frames else None,
    }
    if found:
        row["error"] = statistics.median(found) / truth_px - 1
        row["jitter"] = statistics.pstdev(found) / statistics.mean(found) if len(found) > 1 else 0.0
        medians = []
        for f in held:  # the page's 1 s medians, at each frame
            window = [g["spacing"] for g in held if f["at"] - 1000 <= g["at"] <= f["at"] and g["spacing"] is not None]
            if window:
                medians.append(statistics.median(window))
        row["median_jitter"] = statistics.pstdev(medians) / statistics.mean(medians) if len(medians) > 1 else 0.0
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1280x720,1920x1080", help="frame sizes, comma-separated")
    parser.add_argument("--distances", default="400,1000,2000,3000,4000", help="mm, comma-separated")
    parser.add_argument("--fov", type=float, default=60.0, help="horizontal field of view, degrees (a laptop webcam)")
    parser.add_argument("--modes", default="cold,followed", help="cold, followed")
    parser.add_argument("--conditions", default="clean,dim", help="clean, dim")
    parser.add_argument("--hold-s", type=float, default=8.0, help="seconds of video at each distance")
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--step-s", type=float, default=2.0, help="seconds per step of the walk back from 0.5 m")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"Chromium {CHROMIUM}, CPU only; pinhole camera, horizontal field of view {args.fov:g} degrees")
    print(f"start {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average {load_average()}")
    print(
        f"{'size':>9} {'mode':>8} {'cond':>6} {'m':>5} {'eyes px':>8} {'found':>8} {'error':>7} "
        f"{'jitter':>7} {'1s med':>7} {'ms/frame':>8} {'load':>5}"
    )
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            width, height = (int(x) for x in size.split("x"))
            camera = Camera.with_fov(width, height, args.fov)
            for condition in args.conditions.split(","):
                for mode in args.modes.split(","):
                    for distance_mm in (float(d) for d in args.distances.split(",")):
                        if mode == "followed" and distance_mm <= 500:
                            continue  # already close
                        video = write_y4m(
                            Path(tmp) / "bench.y4m",
                            camera,
                            [(distance_mm, args.hold_s)],
                            fps=args.fps,
                            dim=condition == "dim",
                            walk_from_mm=500.0 if mode == "followed" else None,
                            walk_step_s=args.step_s,
                        )
                        hold_frames = int(args.hold_s * args.fps * 0.8)
                        # the video's length; the page may give up after twice that (a slow machine misses
                        # the first walk while the model loads, and Chromium plays the video again)
                        video_s = video.stat().st_size / (width * height * 3 // 2 + len(b"FRAME\n")) / args.fps
                        result = measure(
                            playwright, video, camera, hold_frames, 2 * video_s + 10, followed=mode == "followed"
                        )
                        if result["error"]:
                            print(f"{size:>9} {mode:>8} {condition:>6}: {result['error']}")
                            continue
                        row = summarise(
                            result["frames"], camera.eye_spacing_px(distance_mm), followed=mode == "followed"
                        )
                        pct = lambda v: "—" if v is None else f"{v * 100:+.1f}%"  # noqa: E731
                        print(
                            f"{size:>9} {mode:>8} {condition:>6} {distance_mm / 1000:>5.1f} "
                            f"{camera.eye_spacing_px(distance_mm):>8.1f} {row['found']:>3}/{row['measured']:<4} "
                            f"{pct(row.get('error')):>7} {pct(row.get('jitter')):>7} {pct(row.get('median_jitter')):>7} "
                            f"{row['ms'] or 0:>8.0f} {os.getloadavg()[0]:>5.1f}"
                            f"{' (cut short)' if result.get('cut') else ''}",
                            flush=True,
                        )
    print(f"end {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average {load_average()}")
    print(json.dumps({"note": "error is against the pinhole camera with the photo's fixed scale"}))


if __name__ == "__main__":
    main()
