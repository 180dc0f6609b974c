"""Validation of incoming socket payloads: one small schema per event.

A schema maps a field name to a Field (type, required, range, size). `validate(event, payload)`
returns a clean dict or raises PayloadError whose message names the field and what to send.
Nothing is stored before a payload has passed here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from webapp import events as ev
from webapp.i18n import LANGUAGES

MAX_STRING = 2000
MAX_LIST = 50
# A page event's detail (the only free-form object) is stored with the test: the pages send about
# 60 bytes (a ratio and a viewport, webapp/static/js/patient/page-events.js); 1 kB is 16 times that.
MAX_SCALAR_DICT_BYTES = 1024


class PayloadError(ValueError):
    def __init__(self, message: str, code: str = "invalid_payload"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Field:
    kind: str  # "number" | "int" | "str" | "bool" | "list" | "dict" | "symbol_or_null" | "scalar_dict"
    required: bool = True
    low: float | None = None
    high: float | None = None
    max_len: int | None = None
    min_len: int | None = None
    choices: tuple[str, ...] | None = None
    items: Field | None = None
    schema: dict[str, Field] | None = None
    nullable: bool = False


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(name: str, field: Field, value: Any) -> Any:
    if value is None:
        if field.nullable:
            return None
        raise PayloadError(f"{name} is missing or null; send a value")
    kind = field.kind
    if kind in ("number", "int"):
        if not _is_number(value) or (kind == "int" and value != int(value)):
            raise PayloadError(f"{name} must be {'an integer' if kind == 'int' else 'a number'}, got {value!r}"[:200])
        value = int(value) if kind == "int" else float(value)
        if field.low is not None and value < field.low or field.high is not None and value > field.high:
            raise PayloadError(f"{name} must be between {field.low:g} and {field.high:g}, got {value:g}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise PayloadError(f"{name} must be true or false")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise PayloadError(f"{name} must be text")
        limit = field.max_len or MAX_STRING
        if len(value) > limit:
            raise PayloadError(f"{name} is too long ({len(value)} characters); send at most {limit}")
        if field.min_len is not None and len(value.strip()) < field.min_len:
            raise PayloadError(f"{name} is empty; write something")
        if field.choices is not None and value not in field.choices:
            raise PayloadError(f"{name} must be one of {', '.join(field.choices)}, got {value[:40]!r}")
        return value
    if kind == "list":
        if not isinstance(value, list):
            raise PayloadError(f"{name} must be a list")
        limit = field.max_len or MAX_LIST
        if len(value) > limit or len(value) < (field.min_len or 0):
            raise PayloadError(f"{name} must have {field.min_len or 0} to {limit} items, got {len(value)}")
        assert field.items is not None
        return [_check(f"{name}[{i}]", field.items, item) for i, item in enumerate(value)]
    if kind == "dict":
        if not isinstance(value, dict):
            raise PayloadError(f"{name} must be an object")
        assert field.schema is not None
        return _validate_mapping(value, field.schema, prefix=f"{name}.")
    if kind == "scalar_dict":
        if not isinstance(value, dict):
            raise PayloadError(f"{name} must be an object")
        if len(value) > 20:
            raise PayloadError(f"{name} has too many keys; send at most 20")
        clean = {}
        for key, item in value.items():
            if not isinstance(key, str) or len(key) > 40:
                raise PayloadError(f"{name} keys must be short text")
            if isinstance(item, list) and len(item) <= 4 and all(_is_number(x) for x in item):
                clean[key] = item
            elif item is None or isinstance(item, bool) or _is_number(item):
                clean[key] = item
            elif isinstance(item, str) and len(item) <= 200:
                clean[key] = item
            else:
                raise PayloadError(f"{name}.{key} must be a number, short text, true/false or up to 4 numbers")
        size = len(json.dumps(clean, separators=(",", ":")))
        if size > MAX_SCALAR_DICT_BYTES:
            raise PayloadError(f"{name} is {size} bytes of JSON; send at most {MAX_SCALAR_DICT_BYTES}")
        return clean
    if kind == "symbol_or_null":
        if not isinstance(value, str) or len(value) > 20:
            raise PayloadError(f"{name} must be a symbol (short text) or null")
        return value
    raise AssertionError(f"unknown field kind {kind}")


def _validate_mapping(payload: Any, schema: dict[str, Field], prefix: str = "") -> dict:
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise PayloadError("the payload must be an object")
    unknown = sorted(set(payload) - set(schema))
    if unknown:
        raise PayloadError(f"unexpected field {prefix}{unknown[0]}; remove it")
    clean = {}
    for name, field in schema.items():
        if name not in payload:
            if field.required:
                raise PayloadError(f"{prefix}{name} is missing; send it")
            continue
        clean[name] = _check(prefix + name, field, payload[name])
    return clean


TRIAL_ID = Field("str", max_len=40)
SEQ = Field("int", low=1, high=10_000_000)
RESPONSES = Field("list", min_len=1, max_len=20, items=Field("symbol_or_null", nullable=True))
SESSION_ID = Field("str", max_len=40)

DISTANCE = {
    "method": Field("str", choices=("tape", "mirror", "blind_spot")),
    "distance_mm": Field("number", required=False, low=1, high=100_000),
    "patient_to_mirror_mm": Field("number", required=False, low=1, high=100_000),
    "offsets_mm": Field("list", required=False, min_len=1, max_len=10, items=Field("number", low=0, high=10_000)),
}

# The video call: an SDP description (a few kB; 64 kB is far above any real one) or a trickled ICE
# candidate, as RTCSessionDescription / RTCIceCandidate.toJSON() give them (webapp/live/call.py).
PEER_ID = Field("str", max_len=40, min_len=1)
DESCRIPTION = Field(
    "dict",
    required=False,
    schema={
        "type": Field("str", choices=("offer", "answer")),
        "sdp": Field("str", max_len=65_536, min_len=1),
    },
)
CANDIDATE = Field(
    "dict",
    required=False,
    schema={
        "candidate": Field("str", max_len=1000),  # "" marks the end of the candidates
        "sdpMid": Field("str", required=False, nullable=True, max_len=40),
        "sdpMLineIndex": Field("int", required=False, nullable=True, low=0, high=100),
        "usernameFragment": Field("str", required=False, nullable=True, max_len=256),
    },
)
CALL_DEVICE = Field("str", choices=("display", "pad"))

SCHEMAS: dict[str, dict[str, Field]] = {
    ev.CONSENT: {},
    ev.LANGUAGE: {"language": Field("str", choices=tuple(LANGUAGES))},
    ev.READY: {},
    ev.CALIBRATION: {
        "css_px_per_mm": Field("number", low=0.1, high=1000),
        "device_pixel_ratio": Field("number", low=0.05, high=100),
        "viewport_css_px": Field("list", min_len=2, max_len=2, items=Field("int", low=1, high=100_000)),
        "scale_method": Field("str", choices=("card", "ruler")),
        "distance": Field("dict", schema=DISTANCE),
        "user_agent": Field("str", required=False, max_len=512),
    },
    ev.DRAWN: {
        "trial_id": TRIAL_ID,
        "seq": SEQ,
        # [width, height] of each optotype's ink on screen, in device px, in the order shown.
        "ink_device_px": Field(
            "list",
            min_len=1,
            max_len=20,
            items=Field("list", min_len=2, max_len=2, items=Field("number", low=0, high=1_000_000)),
        ),
        "device_pixel_ratio": Field("number", low=0.05, high=100),
        "visual_viewport_scale": Field("number", low=0.01, high=100),
    },
    ev.ANSWER: {
        "trial_id": TRIAL_ID,
        "seq": SEQ,
        "responses": RESPONSES,
        "response_time_ms": Field("number", required=False, nullable=True, low=0, high=3_600_000),
    },
    ev.PAGE_EVENT: {
        "kind": Field("str", choices=("hidden", "visible", "fullscreen_exit", "fullscreen_enter", "resize", "zoom")),
        "detail": Field("scalar_dict", required=False),
    },
    ev.PRACTICE: {},
    ev.PRACTICE_ANSWER: {
        "practice_id": Field("int", low=1, high=1_000_000),
        "response": Field("symbol_or_null", nullable=True),
    },
    ev.STOP: {},
    ev.PAD_CODE: {},
    ev.HELPER: {"on": Field("bool")},
    ev.DISTANCE_GUARD: {
        "kind": Field("str", choices=("reference", "sample", "off")),
        # the eyes' spacing in camera px (a median over about a second); null: no face in view
        "eye_spacing_px": Field("number", required=False, nullable=True, low=0, high=100_000),
        "reason": Field("str", required=False, choices=("refused", "unavailable", "failed", "declined", "timeout")),
    },
    ev.WATCH: {"session_id": SESSION_ID},
    ev.PAUSE: {"session_id": SESSION_ID},
    ev.RESUME: {"session_id": SESSION_ID},
    ev.REQUEST_RECALIBRATION: {
        "session_id": SESSION_ID,
        # "distance": only the viewing distance is measured again (the screen's scale is kept)
        "part": Field("str", required=False, choices=("all", "distance")),
    },
    ev.NEXT_EYE: {"session_id": SESSION_ID},
    ev.END: {"session_id": SESSION_ID},
    ev.NOTE: {"session_id": SESSION_ID, "text": Field("str", max_len=2000, min_len=1)},
    ev.PRESENT: {"session_id": SESSION_ID, "logmar": Field("number", low=-1.0, high=3.0)},
    ev.SCORE: {
        "session_id": SESSION_ID,
        "trial_id": TRIAL_ID,
        "seq": SEQ,
        "responses": Field("list", required=False, min_len=1, max_len=20, items=Field("symbol_or_null", nullable=True)),
        "correct": Field("list", required=False, min_len=1, max_len=20, items=Field("bool")),
    },
    ev.SHARE_RESULTS: {"session_id": SESSION_ID, "show": Field("bool")},
    ev.MOVE_CLOSER: {
        "session_id": SESSION_ID,
        "distance_mm": Field("number", required=False, low=250, high=8000),
        "decline": Field("bool", required=False),
    },
    ev.CATEGORY: {
        "session_id": SESSION_ID,
        "eye": Field("str", choices=("right", "left", "both")),
        "code": Field("str", choices=("CF", "HM", "LP", "NLP")),
        "distance_mm": Field("number", required=False, low=100, high=8000),
    },
    ev.CALL_START: {"session_id": SESSION_ID, "video": Field("bool")},
    ev.CALL_END: {"session_id": SESSION_ID},
    ev.CALL_SIGNAL: {
        "session_id": SESSION_ID,
        "device": CALL_DEVICE,
        "peer_id": PEER_ID,
        "description": DESCRIPTION,
        "candidate": CANDIDATE,
    },
    ev.CALL_MEDIA: {"session_id": SESSION_ID, "audio": Field("bool"), "video": Field("bool"), "hidden": Field("bool")},
    ev.CALL_JOIN: {
        "camera": Field("str", choices=("allowed", "refused", "unavailable")),
        "audio": Field("bool"),
        "video": Field("bool"),
    },
    ev.CALL_REPLY: {"peer_id": PEER_ID, "description": DESCRIPTION, "candidate": CANDIDATE},
    ev.CALL_DEVICE_MEDIA: {"audio": Field("bool"), "video": Field("bool")},
}


def validate(event: str, payload: Any) -> dict:
    """The payload of `event` checked against its schema, or PayloadError."""
    clean = _validate_mapping(payload, SCHEMAS[event])
    if event == ev.SCORE and ("responses" in clean) == ("correct" in clean):
        raise PayloadError("send either responses or correct (one per optotype shown), not both and not neither")
    if event in (ev.CALL_SIGNAL, ev.CALL_REPLY) and ("description" in clean) == ("candidate" in clean):
        raise PayloadError("send either description or candidate, not both and not neither")
    if event == ev.CALL_SIGNAL and clean.get("description", {}).get("type") == "answer":
        raise PayloadError("the clinician sends offers; the patient's devices answer")
    if event == ev.CALL_REPLY and clean.get("description", {}).get("type") == "offer":
        raise PayloadError("the patient's devices answer; the clinician sends offers")
    if event == ev.MOVE_CLOSER and ("distance_mm" in clean) == bool(clean.get("decline")):
        raise PayloadError("send either distance_mm (where the patient moves to) or decline: true, not both")
    if event == ev.CALIBRATION:
        distance = clean["distance"]
        needed = {"tape": "distance_mm", "mirror": "patient_to_mirror_mm", "blind_spot": "offsets_mm"}[
            distance["method"]
        ]
        if needed not in distance:
            raise PayloadError(f"distance.{needed} is missing for the {distance['method']} method; send it")
    return clean
