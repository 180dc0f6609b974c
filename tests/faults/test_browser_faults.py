"""Faults in real pages (Chromium via Playwright, the real server as a subprocess):

- the server is killed with SIGKILL mid-test and started again on the same port and database: the
  patient's display and the clinician's live view reconnect by themselves; the display shows the
  same trial; the live view shows the whole history again (re-rendered from the snapshot), with no
  warning that another device took over;
- the clinician's page reloads mid-test: the whole history, then the next answer live;
- the display's connection drops (its WebSocket closed under it) while the network is offline, the
  patient answers meanwhile: the answer is sent when the page is back, counted once, and the test
  goes on; the live view's connection drops too and it catches up.
"""

import pytest

from tests.support.flows import calibrate_by_clicking, create_test, sign_in, wait_for_trial

pytestmark = pytest.mark.browser

# Keeps every WebSocket the page opens, so a test can close one under the Socket.IO client (what a
# network drop does to it). Runs before the page's scripts (the client reads window.WebSocket).
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
  };
})();
"""
CLOSE_SOCKETS = "() => window.__sockets.filter(s => s.readyState === 1).forEach(s => s.close())"
ANSWERS = "[data-answers] li"


def open_pages(new_context, shots, base: str):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    clinician.add_init_script(TRACK_SOCKETS)
    sign_in(clinician, base)
    invite_url, public_id = create_test(clinician, base, eyes="right")
    clinician.goto(f"{base}/sessions/{public_id}")
    clinician.wait_for_selector('[data-device="display"]')
    context = new_context(viewport={"width": 1280, "height": 800})
    display = shots.watch("display", context.new_page())
    display.add_init_script(TRACK_SOCKETS)
    display.goto(invite_url)
    display.invite_url = invite_url  # the page takes the token out of its address bar
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    calibrate_by_clicking(display, 4.0)
    display.click('[data-action="answers-done"]')
    display.click('[data-action="ready"]')
    return clinician, display, context, public_id


def on_screen(display, trial_id: str) -> dict:
    """Wait until `trial_id` is drawn; its trial id, seq and optotypes."""
    wait_for_trial(display, trial_id)
    return display.eval_on_selector(
        "[data-stimulus-host]",
        """h => ({
        trial: h.dataset.trialId, seq: h.dataset.seq,
        symbols: [...h.querySelectorAll('[data-optotype]')].map(e => e.dataset.optotype)})""",
    )


def type_answer(display, symbols: list[str]) -> None:
    for symbol in symbols:
        display.keyboard.press(symbol.lower())


def history_shows(clinician, count: int) -> None:
    clinician.wait_for_function("n => document.querySelectorAll('[data-answers] li').length === n", arg=count)


def test_server_sigkill_then_a_clinician_reload_keep_the_trial_and_the_history(new_context, shots, server):
    clinician, display, _, public_id = open_pages(new_context, shots, server.base_url)
    for index in range(2):
        type_answer(display, on_screen(display, f"right-{index}")["symbols"])
        history_shows(clinician, index + 1)
    before = on_screen(display, "right-2")

    server.kill()
    display.wait_for_selector("[data-connection]:not([hidden])")
    clinician.wait_for_selector("[data-connection]:not([hidden])")
    # Forget what the live view shows: after the restart it must come back from the server.
    clinician.eval_on_selector("[data-answers]", "list => list.replaceChildren()")
    server.start()

    display.wait_for_selector("[data-connection]", state="hidden", timeout=20000)
    clinician.wait_for_selector("[data-connection]", state="hidden", timeout=20000)
    history_shows(clinician, 2)
    assert on_screen(display, "right-2") == before  # same trial, same seq, same optotypes
    shots.take(clinician, "after-restart", full_page=False)

    clinician.reload()
    history_shows(clinician, 2)
    # The display back after the restart is the same device, not a second one taking over: the
    # snapshot's events (rendered with the history) carry no such warning.
    clinician.wait_for_selector('[data-event-kind="calibration"]')
    assert clinician.locator('[data-event-kind="warning"]:has-text("connected again")').count() == 0
    clinician.wait_for_selector('[data-device="display"][data-on="true"]')
    type_answer(display, before["symbols"])
    history_shows(clinician, 3)  # live again after the reload
    assert clinician.eval_on_selector_all(ANSWERS, "els => els.map(e => e.dataset.correct)") == ["true"] * 3
    on_screen(display, "right-3")
    assert [index for _, index, _, _ in server.stored_trials(public_id)] == [0, 1, 2]


def test_a_dropped_connection_sends_the_answer_typed_offline_once(new_context, shots, server):
    clinician, display, context, public_id = open_pages(new_context, shots, server.base_url)
    type_answer(display, on_screen(display, "right-0")["symbols"])
    history_shows(clinician, 1)
    current = on_screen(display, "right-1")

    # The network goes and the connection with it; the patient answers anyway.
    context.set_offline(True)
    display.evaluate(CLOSE_SOCKETS)
    display.wait_for_selector("[data-connection]:not([hidden])")
    type_answer(display, current["symbols"])
    shots.take(display, "answered-offline", full_page=False)
    assert len(server.stored_trials(public_id)) == 1  # not arrived yet

    context.set_offline(False)
    display.wait_for_selector("[data-connection]", state="hidden", timeout=20000)
    on_screen(display, "right-2")  # the buffered answer was sent after the reconnect and counted
    history_shows(clinician, 2)

    # The live view's connection drops: it reconnects, watches again and goes on live.
    clinician.evaluate(CLOSE_SOCKETS)
    clinician.wait_for_selector("[data-connection]:not([hidden])")
    clinician.wait_for_selector("[data-connection]", state="hidden", timeout=20000)
    history_shows(clinician, 2)
    type_answer(display, on_screen(display, "right-2")["symbols"])
    history_shows(clinician, 3)
    stored = server.stored_trials(public_id)
    assert [(index, seq) for _, index, seq, _ in stored][:2] == [(0, stored[0][2]), (1, int(current["seq"]))]
    assert [index for _, index, _, _ in stored] == [0, 1, 2]


def test_a_second_tab_on_the_same_link_takes_over_and_the_clinician_sees_it(new_context, shots, server):
    clinician, display, context, public_id = open_pages(new_context, shots, server.base_url)
    current = on_screen(display, "right-0")
    invite_url = display.invite_url
    # A second tab of the same browser (the link works once: another browser would be refused).
    second = shots.watch("second display", context.new_page())
    second.goto(invite_url)
    clinician.wait_for_selector('[data-event-kind="warning"]:has-text("connected again")')
    shots.take(clinician, "takeover-warning", full_page=False)
    # The first tab's connection was closed by the server, and it stays closed: it does not
    # reconnect and take the test back.
    display.wait_for_function("() => window.__sockets.every(s => s.readyState === WebSocket.CLOSED)")
    display.wait_for_function("() => document.body.innerText.includes('opened in another window or tab')")
    opened = display.evaluate("() => window.__sockets.length")
    clinician.wait_for_selector('[data-device="display"][data-on="true"]')
    assert display.evaluate("() => window.__sockets.length") == opened
    assert server.stored_trials(public_id) == [] and current["trial"] == "right-0"
