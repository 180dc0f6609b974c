"""Clients of the real servers: a clinician over HTTP (requests) and Socket.IO clients that record
every event in arrival order, so a test can await an event instead of sleeping."""

from __future__ import annotations

import gc
import re
import socket
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import requests
import socketio

PASSWORD = "correct horse battery"
EMAIL = "scaleout@example.org"
CALIBRATION = {
    "css_px_per_mm": 4.0,
    "device_pixel_ratio": 1.0,
    "viewport_css_px": [1600, 900],
    "scale_method": "card",
    "distance": {"method": "tape", "distance_mm": 3000},
    "user_agent": "tests/scaleout",
}
NEW_TEST = {
    "patient_reference": "Scale-out",
    "eyes": "right_left",
    "optotype_set": "sloan",
    "procedure": "adaptive",
    "chart_presentation": "row",
    "correction": "none",
    "setup": "3m",
    "answer_mode": "patient",
}


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def first_clinician(base_url: str) -> requests.Session:
    """The first-run set-up on a fresh database; returns the signed-in HTTP session."""
    http = requests.Session()
    page = http.get(base_url + "/setup").text
    created = http.post(
        base_url + "/setup", data={"email": EMAIL, "password": PASSWORD, "confirm": PASSWORD, "csrf_token": csrf(page)}
    )
    assert created.ok, created.status_code
    return http


def cookie_header(http: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def new_test(http: requests.Session, base_url: str, **overrides) -> tuple[str, str]:
    """POST the new-test form; returns (public_id, invite token)."""
    form = http.get(base_url + "/sessions/new").text
    page = http.post(base_url + "/sessions/new", data={**NEW_TEST, **overrides, "csrf_token": csrf(form)})
    assert page.status_code == 200 and [r.status_code for r in page.history] == [303], page.text[:500]
    token = re.search(r'/t/([^"]+)"[^>]*data-invite-url', page.text).group(1)
    public_id = re.search(r'data-session-id="([^"]+)"', page.text).group(1)
    return public_id, token


class Recorder:
    """A python-socketio client on one namespace; every event is kept, in the order it arrived."""

    def __init__(self, namespace: str, events: tuple[str, ...], reconnection: bool = False):
        self.namespace = namespace
        self.http = requests.Session()
        self.client = socketio.Client(
            reconnection=reconnection,
            reconnection_delay=0.2,
            reconnection_delay_max=0.5,
            randomization_factor=0,
            http_session=self.http,
        )
        self.log: list[tuple[str, Any]] = []
        self.changed = threading.Condition()
        for name in events:
            self.client.on(name, self._recorder(name), namespace=namespace)
        self.client.on("connect", self._recorder("connect"), namespace=namespace)

    def _recorder(self, name: str) -> Callable:
        def record(data=None):
            with self.changed:
                self.log.append((name, data))
                self.changed.notify_all()

        return record

    def connect(self, base_url: str, transports=("websocket",), headers: dict | None = None, **kwargs) -> Recorder:
        # Cookies (a patient's credential: devtools/patient_links.py) go into the client's HTTP session,
        # which both transports send on every (re)connect: python-engineio's WebSocket upgrade deletes
        # a Cookie header from the dict python-socketio keeps for reconnecting.
        headers = dict(headers or {})
        for name, value in (part.split("=", 1) for part in headers.pop("Cookie", "").split("; ") if part):
            self.http.cookies.set(name, value)
        self.client.connect(
            base_url,
            namespaces=[self.namespace],
            transports=list(transports),
            wait_timeout=20,
            headers=headers,
            **kwargs,
        )
        return self

    def call(self, event: str, data: Any = None, timeout: float = 20) -> Any:
        return self.client.call(event, {} if data is None else data, namespace=self.namespace, timeout=timeout)

    def emit(self, event: str, data: Any = None) -> None:
        self.client.emit(event, {} if data is None else data, namespace=self.namespace)

    def count(self, name: str) -> int:
        with self.changed:
            return sum(1 for event, _ in self.log if event == name)

    def payloads(self, name: str) -> list[Any]:
        with self.changed:
            return [data for event, data in self.log if event == name]

    def mark(self) -> int:
        """A position in the log, for `wait(..., since=)`."""
        with self.changed:
            return len(self.log)

    def wait(
        self, name: str, timeout: float = 20, match: Callable[[Any], bool] = lambda data: True, since: int = 0
    ) -> Any:
        """The first `name` event (logged at or after position `since`) that satisfies `match`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                seen = [data for event, data in self.log[since:] if event == name]
                for data in seen:
                    if match(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {name!r} on {self.namespace} within {timeout} s; got "
                        f"{[event for event, _ in self.log][-20:]}"
                    )
                self.changed.wait(left)

    def disconnect(self) -> None:
        try:
            self.client.disconnect()
        except Exception:  # already gone with its server
            pass


PATIENT_EVENTS = (
    "state",
    "stimulus",
    "answer_request",
    "eye_done",
    "test_done",
    "error",
    "paused",
    "resumed",
    "device_status",
)
CLINICIAN_EVENTS = (
    "stimulus_shown",
    "answer_scored",
    "estimate",
    "eye_done",
    "test_done",
    "status",
    "device_status",
    "calibration",
)


def display(reconnection: bool = False) -> Recorder:
    return Recorder("/patient", PATIENT_EVENTS, reconnection)


def clinician() -> Recorder:
    return Recorder("/clinician", CLINICIAN_EVENTS)


def pad_token(state: dict) -> str:
    return state["pad_url"].rsplit("/pad/", 1)[1]


class Client(Recorder):
    """A Recorder that also logs `disconnect` and can lose its network abruptly."""

    def __init__(self, namespace: str, events: tuple[str, ...], reconnection: bool = True):
        super().__init__(namespace, events, reconnection)
        self.client.on("disconnect", self._recorder("disconnect"), namespace=namespace)
        self.dropped: list = []

    def drop_network(self) -> None:
        """Shut the TCP connection under the client, as a Wi-Fi drop or a closed transport does."""
        connection = self.client.eio.ws
        connection.sock.shutdown(socket.SHUT_RDWR)
        self.dropped.append(connection)

    def disconnect(self) -> None:
        super().disconnect()
        for connection in self.dropped:
            connection.close()
        # python-engineio's client leaves the socket of a connection the server closed (killed
        # server) for the garbage collector; collect it here, where its ResourceWarning is noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def watcher(base_url: str, cookie: str, public_id: str) -> Client:
    watch = Client("/clinician", CLINICIAN_EVENTS + ("page_event",))
    watch.connect(base_url, headers={"Cookie": cookie})
    assert watch.call("watch", {"session_id": public_id})["ok"]
    return watch


def start(screen: Client) -> dict:
    """consent -> calibration -> ready; returns the first stimulus."""
    assert screen.call("consent")["ok"]
    assert screen.call("calibration", CALIBRATION)["ok"]
    assert screen.call("ready")["ok"]
    return screen.wait("stimulus")


def answer_of(stimulus: dict) -> dict:
    return {
        "trial_id": stimulus["trial_id"],
        "seq": stimulus["seq"],
        "responses": list(stimulus["optotypes"]),
        "response_time_ms": 900,
    }
