"""Socket.IO namespace and event names: the one place they are spelled (see docs/protocol.md)."""

PATIENT_NS = "/patient"
CLINICIAN_NS = "/clinician"

# /patient, client -> server
CONSENT = "consent"
LANGUAGE = "language"  # display, welcome step: the patient's pages in another language (webapp/i18n.py)
CALIBRATION = "calibration"
READY = "ready"
DRAWN = "drawn"
ANSWER = "answer"
PAGE_EVENT = "page_event"
# From the patient's mark (the pad, or the display's keyboard): the practice letter and its answer,
# and stopping the test. `practice` is also server -> display (the letter to draw).
PRACTICE = "practice"
PRACTICE_ANSWER = "practice_answer"
STOP = "stop"
# Display only: a new short code for pairing the phone at /pad (webapp/pairing.py); no phase change.
PAD_CODE = "pad_code"
DISTANCE_GUARD = "distance_guard"  # the webcam distance guard's numbers; also server -> /clinician
# Pad only, a child's test: an adult taps the answers the child points to (on/off); also server ->
# /clinician. Stored as events; not a command of the phase table.
HELPER = "helper"

# /patient, server -> client
STATE = "state"
STIMULUS = "stimulus"
ANSWER_REQUEST = "answer_request"
PAUSED = "paused"
RESUMED = "resumed"
RECALIBRATE = "recalibrate"
EYE_DONE = "eye_done"
TEST_DONE = "test_done"
ERROR = "error"
DEVICE_STATUS = "device_status"
PRACTICE_REQUEST = "practice_request"  # pad: answer buttons for the practice letter (never the letter)
PRACTICE_RESULT = "practice_result"  # both devices: whether the practice answer was right

# /clinician, client -> server
WATCH = "watch"
PAUSE = "pause"
RESUME = "resume"
REQUEST_RECALIBRATION = "request_recalibration"
NEXT_EYE = "next_eye"
END = "end"
NOTE = "note"
PRESENT = "present"
SCORE = "score"
SHARE_RESULTS = "share_results"
# Low vision: move the patient closer (or decline the server's proposal); also server -> /clinician
# when the server proposes a move. A category below the chart (CF, HM, LP, NLP) for an eye.
MOVE_CLOSER = "move_closer"
CATEGORY = "category"

# /clinician, server -> client (also DEVICE_STATUS, PAGE_EVENT, CALIBRATION, NOTE, EYE_DONE, TEST_DONE)
STIMULUS_SHOWN = "stimulus_shown"
ANSWER_SCORED = "answer_scored"
ESTIMATE = "estimate"
STATUS = "status"
DRAWN_REPORT = "drawn"

# The video call (webapp/live/call.py; docs/protocol.md, "The video call"). Signaling is relayed,
# never stored. /clinician, client -> server:
CALL_START = "call_start"
CALL_END = "call_end"
CALL_SIGNAL = "call_signal"  # offer or ICE candidate for one device; also server -> /patient
CALL_MEDIA = "call_media"  # the clinician's microphone, camera, hidden video; also server -> /patient
# /patient, client -> server:
CALL_JOIN = "call_join"  # this device is ready for an offer (again); relayed to the clinician
CALL_REPLY = "call_reply"  # answer or ICE candidate; relayed to the clinician
CALL_DEVICE_MEDIA = "call_device_media"  # the device's microphone and camera; relayed to the clinician
# server -> both namespaces: whether a call is on, and (for the patient devices) the ICE servers
CALL_STATE = "call_state"
# Events that only pass a message between the call's peers: nothing stored, nothing audited.
CALL_RELAYED = (CALL_SIGNAL, CALL_MEDIA, CALL_REPLY, CALL_DEVICE_MEDIA)


def display_room(public_id: str) -> str:
    return f"display:{public_id}"


def pad_room(public_id: str) -> str:
    return f"pad:{public_id}"


def watch_room(public_id: str) -> str:
    return f"watch:{public_id}"
