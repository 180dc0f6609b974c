"""The video call in Debian's Chromium with fake camera and microphone: the clinician's live view
and the patient's test screen establish a call, and getStats() on both ends shows video frames
decoded and audio packets received rising; the same through a real coturn with relay-only ICE
and the credentials Visus issued (an expired one is refused); a patient who says no to the camera
still takes the test; a reload of either page brings the call back by itself.

These tests launch a browser of their own with the fake-media flags, so the other browser tests
keep theirs."""

from __future__ import annotations

import secrets
import time

import pytest

from devtools import turn
from tests.support.flows import calibrate_by_clicking, create_test, sign_in
from tests.support.server import ServerProcess
from webapp.live.call import turn_credential

pytestmark = pytest.mark.browser

STATS = """async () => {
  const live = window.__peers.filter(({pc}) => pc.connectionState !== "closed");
  if (!live.length) return null;
  const {pc, config} = live[live.length - 1];
  const out = {state: pc.connectionState, frames: 0, audioPackets: 0, pair: null, policy: config.iceTransportPolicy};
  const report = await pc.getStats();
  let pairId = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") out.frames += s.framesDecoded || 0;
    if (s.type === "inbound-rtp" && s.kind === "audio") out.audioPackets += s.packetsReceived || 0;
    if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  if (pairId) {
    const pair = report.get(pairId);
    out.pair = {local: report.get(pair.localCandidateId).candidateType,
                remote: report.get(pair.remoteCandidateId).candidateType};
  }
  return out;
}"""

GATHER = """async (config) => {
  const pc = new RTCPeerConnection(config);
  pc.addTransceiver("audio");
  const types = [];
  const done = new Promise((resolve) => {
    pc.onicecandidate = ({candidate}) => { if (candidate) types.push(candidate.type); else resolve(); };
    setTimeout(resolve, 8000);
  });
  await pc.setLocalDescription(await pc.createOffer());
  await done;
  pc.close();
  return types;
}"""


# The clinician's picture on the patient's screen is hidden or clear of every optotype drawn.
NOT_OVER_LETTERS = """() => {
  const box = document.querySelector("[data-call-clinician-box]");
  const a = box.getBoundingClientRect();
  if (getComputedStyle(box).visibility === "hidden" || a.width === 0) return true;
  return Array.from(document.querySelectorAll("[data-stimulus-host] svg")).every((shape) => {
    const b = shape.getBoundingClientRect();
    return !(a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom);
  });
}"""


def open_pages(call_context, shots, base, **choices):
    clinician = shots.watch("clinician", call_context(viewport={"width": 1280, "height": 1000}).new_page())
    sign_in(clinician, base)
    invite_url, public_id = create_test(clinician, base, eyes="right", **choices)
    clinician.goto(f"{base}/sessions/{public_id}")
    clinician.wait_for_selector('[data-call-action="start"]:not([hidden])')
    display = shots.watch("display", call_context(viewport={"width": 1280, "height": 800}).new_page())
    display.goto(invite_url)
    clinician.wait_for_selector('[data-device="display"][data-on="true"]')
    display.invite_url = invite_url
    return clinician, display


def start_call(clinician, display, allow=True):
    clinician.click('[data-call-action="start"]')
    display.wait_for_selector("[data-call-ask]:not([hidden])")
    display.click('[data-call-action="allow"]' if allow else '[data-call-action="refuse"]')


def media_flowing(page, timeout_s=60, rise_s=30):
    """Stats once the connection is up, then again until more than 10 video frames and 20 audio
    packets have arrived since (asserted within `rise_s`: the media flows, it did not just start).
    Bounds, not waits (a flowing call returns in a second or two): a machine running two test workers
    beside the webcam tests' face model needs them."""
    deadline = time.monotonic() + timeout_s
    while True:
        first = page.evaluate(STATS)
        if first and first["state"] == "connected" and first["frames"] > 0 and first["audioPackets"] > 0:
            break
        assert time.monotonic() < deadline, f"no media in {timeout_s} s: {first}"
        time.sleep(0.3)
    deadline = time.monotonic() + rise_s
    while True:
        second = page.evaluate(STATS)
        if second["frames"] > first["frames"] + 10 and second["audioPackets"] > first["audioPackets"] + 20:
            return second
        assert time.monotonic() < deadline, f"the media stopped rising in {rise_s} s: {(first, second)}"
        time.sleep(0.2)


def test_clinician_and_patient_see_and_hear_each_other(call_context, shots, call_server):
    server = call_server
    try:
        clinician, display = open_pages(call_context, shots, server.base_url)
        start_call(clinician, display)
        on_clinician = media_flowing(clinician)
        on_display = media_flowing(display)
        assert on_clinician["pair"] and on_display["pair"]
        # The patient's picture in the live view is large; the clinician's on the patient's screen small.
        size = "v => [v.getBoundingClientRect().width, v.videoWidth]"
        remote = clinician.eval_on_selector('[data-call-remote="display"]', size)
        assert remote[0] >= 480 and remote[1] > 0, remote
        small = display.eval_on_selector("[data-call-clinician]", size)
        assert small[0] <= 260 and small[1] > 0, small
        shots.take(clinician, "call-live-view", full_page=False)
        shots.take(display, "call-patient", full_page=False)
        # Enlarge, then hide the clinician's video from the patient with one click.
        clinician.click('[data-call-action="enlarge"]')
        assert clinician.eval_on_selector('[data-call-remote="display"]', "v => v.getBoundingClientRect().width") > 1000
        clinician.click('[data-call-action="enlarge"]')
        clinician.click('[data-call-action="hide"]')
        display.wait_for_selector("[data-call-clinician-box]", state="hidden")
        clinician.click('[data-call-action="hide"]')
        display.wait_for_selector("[data-call-clinician-box]", state="visible")
        # The patient mutes; the clinician is told.
        display.click('[data-call-box] [data-call-action="mute"]')
        clinician.wait_for_function("() => document.querySelector('[data-call-peers]').textContent.includes('muted')")

        # During a letter the clinician's picture is in a corner and never over the letters.
        display.check("[data-consent-box]")
        display.click('[data-action="consent"]')
        calibrate_by_clicking(display, 4.0)
        display.click('[data-action="answers-done"]')
        display.click('[data-action="ready"]')
        display.wait_for_function("() => document.querySelector('[data-stimulus-host]').dataset.drawnHeight")
        assert display.evaluate(NOT_OVER_LETTERS), "the clinician's video covers a letter"
        shots.take(display, "call-during-a-letter", full_page=False)

        # The patient's screen opened again (the page drops the token from its address, so a reload
        # is the link opened again): the call comes back without anyone acting, without asking again.
        display.goto(display.invite_url)
        media_flowing(display)
        media_flowing(clinician)
        # A reload of the clinician's page: the same.
        clinician.reload()
        media_flowing(clinician)
        media_flowing(display)

        clinician.click('[data-call-action="end"]')
        display.wait_for_selector("[data-call-box]", state="hidden")
        assert display.evaluate("() => window.__peers.every(({pc}) => pc.connectionState === 'closed')")
    finally:
        server.keep_log("call-server.log")


def test_a_patient_who_refuses_the_camera_takes_the_test_and_the_clinician_is_told(call_context, shots, call_server):
    server = call_server
    try:
        clinician, display = open_pages(call_context, shots, server.base_url)
        start_call(clinician, display, allow=False)
        clinician.wait_for_function(
            "() => document.querySelector('[data-call-status]').textContent.includes('did not allow')"
        )
        assert "camera" in display.text_content("[data-call-note]")
        display.wait_for_selector("[data-call-ask]", state="hidden")
        # The patient still hears the clinician (who still sees no one), and takes the test.
        display.check("[data-consent-box]")
        display.click('[data-action="consent"]')
        calibrate_by_clicking(display, 4.0)
        display.click('[data-action="answers-done"]')
        display.click('[data-action="ready"]')
        display.wait_for_function("() => document.querySelector('[data-stimulus-host]').dataset.drawnHeight")
        symbols = display.eval_on_selector_all(
            "[data-stimulus-host] [data-optotype]", "els => els.map(e => e.dataset.optotype)"
        )
        for symbol in symbols:
            display.keyboard.press(symbol.lower())
        clinician.wait_for_function("() => document.querySelectorAll('[data-answers] li').length === 1")
        # No sender on the patient's side: no video or audio reaches the clinician.
        stats = clinician.evaluate(STATS)
        assert stats is None or stats["frames"] == 0
    finally:
        server.keep_log("call-refused-server.log")


@pytest.fixture
def coturn(tmp_path):
    if not turn.available():
        pytest.skip("coturn's turnserver is not installed (scripts/test.sh installs the coturn package)")
    server = turn.TurnServer(tmp_path / "turn", secret=secrets.token_hex(16)).start()
    yield server
    server.stop()


def test_the_call_goes_through_turn_with_the_credentials_visus_issued(call_context, shots, tmp_path, coturn):
    server = ServerProcess(
        tmp_path,
        env={
            "VISUS_TURN_URLS": coturn.url,
            "VISUS_TURN_SECRET": coturn.secret,
            "VISUS_TURN_TTL_S": "600",
            "VISUS_TURN_ONLY": "1",
        },
    ).start()
    try:
        clinician, display = open_pages(call_context, shots, server.base_url)
        start_call(clinician, display)
        for page in (clinician, display):
            stats = media_flowing(page)
            assert stats["policy"] == "relay"
            assert stats["pair"] == {"local": "relay", "remote": "relay"}, stats
        config = clinician.evaluate("() => window.__peers[window.__peers.length - 1].config")
        (issued,) = config["iceServers"]
        assert issued["urls"] == [coturn.url] and issued["username"].split(":")[0].isdigit()
        assert "username=<" + issued["username"] + ">" in coturn.log()  # coturn saw Visus's username
        # The same TURN server refuses a credential whose time is up (made the same way, expired a minute ago).
        relay_only = {"iceTransportPolicy": "relay"}
        expired = turn_credential(coturn.secret, -60, "expired-test")
        assert clinician.evaluate(GATHER, {**relay_only, "iceServers": [{"urls": [coturn.url], **expired}]}) == []
        assert "relay" in clinician.evaluate(GATHER, {**relay_only, "iceServers": [issued]})
    finally:
        server.stop()
        server.keep_log("call-turn-server.log")


def test_the_call_comes_back_after_the_connection_to_the_server_drops(call_context, shots, tmp_path):
    """A server restart drops both pages' Socket.IO connections (as a network drop does): once they
    reconnect, the clinician's page and the display renegotiate and the media flows on a new
    connection, with nobody clicking anything."""
    server = ServerProcess(tmp_path).start()
    try:
        clinician, display = open_pages(call_context, shots, server.base_url)
        start_call(clinician, display)
        media_flowing(clinician)
        before = clinician.evaluate("() => window.__peers.length")
        server.stop()
        display.wait_for_selector("[data-connection]:not([hidden])")
        server.start()
        display.wait_for_selector("[data-connection]", state="hidden", timeout=20000)
        clinician.wait_for_function("n => window.__peers.length > n", arg=before, timeout=20000)
        media_flowing(clinician)
        media_flowing(display)
    finally:
        server.stop()
        server.keep_log("call-restart-server.log")


def test_the_pad_can_carry_the_sound_and_the_display_then_stays_quiet(call_context, shots, call_server):
    server = call_server
    try:
        clinician, display = open_pages(call_context, shots, server.base_url)
        start_call(clinician, display)
        media_flowing(display)
        display.check("[data-consent-box]")
        display.click('[data-action="consent"]')
        calibrate_by_clicking(display, 4.0)
        display.wait_for_selector("[data-pad-qr] svg")
        pad = shots.watch("pad", call_context(viewport={"width": 400, "height": 800}).new_page())
        pad.goto(display.get_attribute("[data-pad-qr]", "data-pad-url"))
        pad.wait_for_selector("[data-call-ask]:not([hidden])")
        pad.click('[data-call-action="allow"]')
        clinician.wait_for_selector('[data-call-panel][data-sound="pad"]', timeout=30000)
        media_flowing(pad)  # the clinician's voice (and picture) on the phone
        # One loudspeaker: the display gets no more of the clinician's voice while the pad talks.
        quiet = display.evaluate(STATS)["audioPackets"]
        time.sleep(2)
        assert display.evaluate(STATS)["audioPackets"] - quiet < 10
        shots.take(pad, "pad-in-the-call")
        # The phone leaves: the sound goes back to the display.
        pad.close()
        clinician.wait_for_selector('[data-call-panel][data-sound="display"]', timeout=30000)
        media_flowing(display)
    finally:
        server.keep_log("call-pad-server.log")
