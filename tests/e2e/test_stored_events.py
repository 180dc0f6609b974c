"""The clinician's live view, opened after the patient's page reported an event, reads the stored
event's kind from the server, never from the detail the page sent (issue 12: a forged
`detail.kind` of "ended" was shown as "You ended the test.")."""

import pytest

from devtools.patient_links import invite_headers
from tests.support.clients import display
from tests.support.flows import create_test, sign_in

pytestmark = pytest.mark.browser


def test_a_stored_page_event_shows_the_servers_kind_in_the_live_view(new_context, live_server):
    clinician = new_context().new_page()
    sign_in(clinician, live_server)
    invite_url, public_id = create_test(clinician, live_server, eyes="right")
    browser = invite_headers(live_server, invite_url.rsplit("/t/", 1)[1])  # the link, exchanged for the cookie
    screen = display().connect(live_server, auth={"device": "display"}, headers=browser)
    try:
        assert screen.call("consent")["ok"]
        assert screen.call("page_event", {"kind": "visible", "detail": {"kind": "ended"}})["ok"]
    finally:
        screen.disconnect()
    clinician.goto(f"{live_server}/sessions/{public_id}")  # the snapshot: stored events
    clinician.wait_for_selector('[data-events] [data-event-kind="visible"]')
    events = clinician.text_content("[data-events]")
    assert "in front again" in events and "You ended the test" not in events
    assert clinician.locator('[data-event-kind="ended"]').count() == 0
