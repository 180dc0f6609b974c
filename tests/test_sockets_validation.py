"""Whatever a client sends, the server answers with an ack and never crashes or stores garbage."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp import events as ev
from webapp.validation import SCHEMAS, PayloadError, validate

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)


def payloads_for(event):
    """Arbitrary values, and objects built on the event's own field names (so they reach the checks)."""
    fields = sorted(SCHEMAS[event]) or ["x"]
    return json_values | st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields))


@pytest.mark.parametrize("event", sorted(SCHEMAS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_validate_returns_a_clean_dict_or_a_payload_error(event, data):
    payload = data.draw(payloads_for(event))
    try:
        clean = validate(event, payload)
    except PayloadError as error:
        assert str(error) and error.code == "invalid_payload"
    else:
        assert isinstance(clean, dict) and set(clean) <= set(SCHEMAS[event])


@pytest.mark.parametrize("event", [ev.CONSENT, ev.CALIBRATION, ev.READY, ev.DRAWN, ev.ANSWER, ev.PAGE_EVENT])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_patient_events_with_arbitrary_payloads_get_an_ack_never_a_server_error(app, patient_display, event, data):
    ack = patient_display.send(event, data.draw(payloads_for(event)))
    assert isinstance(ack, dict) and "ok" in ack
    if not ack["ok"]:
        assert ack["error"] != "server_error" and ack["message"]


@pytest.fixture
def patient_display(app, clinician_client):
    from tests.support.app import create_test, display, start_testing

    _, token = create_test(clinician_client, eyes="right", procedure="adaptive")
    screen = display(app, token)
    start_testing(screen)
    return screen
