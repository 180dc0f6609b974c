"""answer -> next stimulus with and without the video call running (issue 15's figure).

For each block: a fresh session (the app's own code, bench/relay_latency.py), calibrated by a
python-socketio display that then leaves; the patient's real test screen opened in Debian's Chromium
takes over (it receives the trial on screen and draws it), the clinician's live view in a second
Chromium page (signed in with the session cookie). In a "call" block the clinician starts the video
call (fake camera and microphone: Chromium's --use-fake-device-for-media-stream), the patient allows
it, and the block waits until video frames are decoded on both ends. The pad, a python-socketio
client, answers every trial after a think time; we time answer -> the pad's next `answer_request`,
which leaves the server in the same flush as the display's next `stimulus` (docs/architecture.md §2).
Blocks alternate (no call, call, no call, call, ...), so both conditions share the machine's load.

    python bench/call_latency.py                    # 2 blocks of each, 25 answers each
    python bench/call_latency.py --blocks 1 --answers 10

Prints p50 / p95 per condition and their ratio (target: p95 with the call <= 1.2 x without).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.relay_latency import CALIBRATION, login_cookie, percentile, prepare_database  # noqa: E402
from devtools.chromium import BROWSER_ARGS, CHROMIUM, FAKE_MEDIA_ARGS  # noqa: E402
from devtools.patient_links import invite_headers, pad_headers  # noqa: E402
from devtools.servers import VisusServer  # noqa: E402

# Video frames shown: the patient in the live view, the clinician on the patient's screen.
FRAMES_SHOWN = """() => { const v = document.querySelector('[data-call-remote="display"], [data-call-clinician]');
  return Boolean(v && v.srcObject && v.getVideoPlaybackQuality().totalVideoFrames > 10); }"""


def calibrated_session(server: VisusServer, public_id: str, token: str) -> tuple[str, str, str]:
    """(public_id, the display's credential cookie, pad token) of a session in `testing`, its display
    gone. The invite link works once, so the browser display below carries the credential it was
    exchanged for (webapp/credentials.py)."""
    headers = invite_headers(server.base_url, token)
    display = socketio.Client(reconnection=False)
    states = []
    display.on("state", states.append, namespace="/patient")
    display.connect(
        server.base_url,
        namespaces=["/patient"],
        transports=["websocket"],
        auth={"device": "display"},
        headers=headers,
        wait_timeout=30,
    )
    calibration = {**CALIBRATION, "viewport_css_px": [1280, 800]}  # the browser's window below
    for event, data in (("consent", {}), ("calibration", calibration), ("ready", {})):
        assert display.call(event, data, namespace="/patient", timeout=30)["ok"], event
    pad_token = states[-1]["pad_url"].rsplit("/pad/", 1)[1]
    display.disconnect()
    return public_id, headers["Cookie"], pad_token


def cookies_for(base_url: str, cookie_header: str) -> list[dict]:
    """A Cookie header's pairs as Playwright cookies for base_url."""
    return [
        {"name": c.split("=", 1)[0].strip(), "value": c.split("=", 1)[1], "url": base_url}
        for c in cookie_header.split(";")
    ]


def run_block(server, browser, session, cookie, call: bool, answers: int, rng: random.Random) -> list[float]:
    public_id, display_cookie, pad_token = calibrated_session(server, *session)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(cookies_for(server.base_url, cookie))
    clinician = context.new_page()
    clinician.goto(f"{server.base_url}/sessions/{public_id}")
    display = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    display.context.add_cookies(cookies_for(server.base_url, display_cookie))
    display.goto(f"{server.base_url}/test")
    display.wait_for_function("() => document.querySelector('[data-stimulus-host]').dataset.drawnHeight")
    if call:
        clinician.click('[data-call-action="start"]')
        display.click('[data-call-action="allow"]')
        for page in (clinician, display):
            page.wait_for_function(FRAMES_SHOWN, timeout=30000)
    pad = socketio.Client(reconnection=False)
    requests_seen = []
    arrived = threading.Event()

    def on_request(data):
        requests_seen.append((time.perf_counter(), data))
        arrived.set()

    pad.on("answer_request", on_request, namespace="/patient")
    pad.on("test_done", lambda data: arrived.set(), namespace="/patient")
    pad.connect(
        server.base_url,
        namespaces=["/patient"],
        transports=["websocket"],
        auth={"device": "pad"},
        headers=pad_headers(server.base_url, pad_token),
        wait_timeout=30,
    )
    latencies = []
    try:
        arrived.wait(10)
        for _ in range(answers):
            if not requests_seen:
                break
            _, current = requests_seen[-1]
            time.sleep(rng.uniform(0.4, 0.9))
            # The patient reads the letters off the test screen, mostly right (so the sizes stay
            # within what the screen can draw and the test goes on).
            shown = display.eval_on_selector_all(
                "[data-stimulus-host] [data-optotype]", "els => els.map(e => e.dataset.optotype)"
            )
            if len(shown) != current["count"] or rng.random() < 0.2:
                shown = [rng.choice(current["symbols"]) for _ in range(current["count"])]
            arrived.clear()
            sent = time.perf_counter()
            pad.emit(
                "answer",
                {"trial_id": current["trial_id"], "seq": current["seq"], "responses": shown, "response_time_ms": 700},
                namespace="/patient",
            )
            if not arrived.wait(10):
                break
            at, following = requests_seen[-1]
            if following["seq"] == current["seq"]:
                break  # the test ended
            latencies.append((at - sent) * 1000)
    finally:
        pad.disconnect()
        context.close()
        display.context.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blocks", type=int, default=2, help="blocks of each condition")
    parser.add_argument("--answers", type=int, default=25, help="answers per block")
    parser.add_argument(
        "--split-cores",
        action="store_true",
        help="run the server on the first CPU and the browsers and clients on the others, as on separate machines",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp:
        server = VisusServer(Path(tmp))
        sessions = prepare_database(server.database_url, 2 * args.blocks, "adaptive")
        server.start()
        if args.split_cores:
            cpus = sorted(os.sched_getaffinity(0))
            os.sched_setaffinity(server.process.pid, cpus[:1])
            os.sched_setaffinity(0, cpus[1:])  # the browser launched below inherits it
        try:
            cookie = login_cookie(server.base_url)
            results = {False: [], True: []}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS + FAKE_MEDIA_ARGS)
                if args.split_cores:
                    os.sched_setaffinity(0, cpus[:1])  # the pad client (this process) beside the server
                for _ in range(args.blocks):
                    for call in (False, True):
                        results[call] += run_block(server, browser, sessions.pop(), cookie, call, args.answers, rng)
                browser.close()
        finally:
            server.stop()
    print("| condition | answers | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for call in (False, True):
        values = results[call]
        print(
            f"| {'call running' if call else 'no call'} | {len(values)} | {percentile(values, 50):.1f} | "
            f"{percentile(values, 95):.1f} |"
        )
    if results[False] and results[True]:
        print(f"p95 ratio (call / no call): {percentile(results[True], 95) / percentile(results[False], 95):.2f}")


if __name__ == "__main__":
    main()
