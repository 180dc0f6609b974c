"""The registry of live processes (webapp/live/processes.py): a process killed with SIGKILL runs no
disconnect handler, so the device sids it held stay stored. The clinician must see its display
disconnected within the heartbeat's TTL, and the display's reconnect through another process is
not a second device (no `device_replaced` warning), whether it comes at once or later."""

import time

import pytest

from devtools.patient_links import invite_headers
from tests.support.clients import CLINICIAN_EVENTS, Recorder, cookie_header, display, first_clinician, new_test
from webapp.live.processes import TTL_S

pytestmark = pytest.mark.scaleout


def watching(base_url, http, public_id) -> tuple[Recorder, dict]:
    watch = Recorder("/clinician", CLINICIAN_EVENTS + ("page_event",))
    watch.connect(base_url, headers={"Cookie": cookie_header(http)})
    ack = watch.call("watch", {"session_id": public_id})
    assert ack["ok"], ack
    return watch, ack["snapshot"]


def replaced_warnings(snapshot: dict, watch: Recorder) -> list:
    stored = [e for e in snapshot["events"] if (e.get("detail") or {}).get("code") == "device_replaced"]
    live = [e for e in watch.payloads("page_event") if (e.get("detail") or {}).get("code") == "device_replaced"]
    return stored + live


def test_a_killed_processes_display_is_shown_disconnected_within_the_ttl(deployment):
    doomed, survivor = deployment.start(2)
    http = first_clinician(survivor.base_url)
    public_id, token = new_test(http, survivor.base_url)
    browser = invite_headers(survivor.base_url, token)  # the link, exchanged once for this browser's cookie
    screen = display().connect(doomed.base_url, auth={"device": "display"}, headers=browser)
    screen.wait("state")
    watch, snapshot = watching(survivor.base_url, http, public_id)
    assert snapshot["devices"]["display"] is True
    try:
        mark = watch.mark()
        doomed.kill()
        killed_at = time.monotonic()
        watch.wait("device_status", since=mark, timeout=TTL_S + 10, match=lambda s: not s["display_connected"])
        took_s = time.monotonic() - killed_at
        print(f"killed process's display shown disconnected after {took_s:.1f} s")
        assert took_s <= TTL_S, took_s
        assert watch.call("watch", {"session_id": public_id})["snapshot"]["devices"]["display"] is False

        again = display().connect(survivor.base_url, auth={"device": "display"}, headers=browser)
        again.wait("state")
        snapshot = watch.call("watch", {"session_id": public_id})["snapshot"]
        assert snapshot["devices"]["display"] is True
        assert replaced_warnings(snapshot, watch) == []
        again.disconnect()
    finally:
        screen.disconnect()
        watch.disconnect()


def test_a_display_back_at_once_through_another_process_is_no_replacement(deployment):
    doomed, survivor = deployment.start(2)
    http = first_clinician(survivor.base_url)
    public_id, token = new_test(http, survivor.base_url)
    browser = invite_headers(survivor.base_url, token)  # the link, exchanged once for this browser's cookie
    screen = display().connect(doomed.base_url, auth={"device": "display"}, headers=browser)
    screen.wait("state")
    watch, _ = watching(survivor.base_url, http, public_id)
    try:
        doomed.kill()  # its heartbeat key lives on for up to TTL_S: the reconnect comes well before
        again = display().connect(survivor.base_url, auth={"device": "display"}, headers=browser)
        again.wait("state")
        time.sleep(1)  # a warning would have been sent with the connect
        snapshot = watch.call("watch", {"session_id": public_id})["snapshot"]
        assert snapshot["devices"]["display"] is True
        assert replaced_warnings(snapshot, watch) == []
        # A second live device on the same link is still a replacement (the registry is no blind spot).
        third = display().connect(
            doomed.base_url.replace(str(doomed.port), str(survivor.port)), auth={"device": "display"}, headers=browser
        )  # another tab
        third.wait("state")
        watch.wait("page_event", match=lambda e: (e.get("detail") or {}).get("code") == "device_replaced")
        third.disconnect()
        again.disconnect()
    finally:
        screen.disconnect()
        watch.disconnect()
