"""Messages of one live event, queued while it changes rows and sent only after the commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from webapp import events as ev
from webapp.extensions import socketio


@dataclass
class Outbox:
    """Messages to send once the transaction is committed.

    `state_to_patients`: what the patient's screens draw changed (the phase, mostly), so both
    patient devices get their `state` again; `status_to_clinician`: the phase changed, so the
    clinician gets `status`. webapp/live/common.py builds both from the committed rows and sends
    them before the queued messages, so a page always knows the phase a `stimulus`, `paused` or
    `test_done` belongs to, and never sees a phase the event only passed through.
    """

    public_id: str
    messages: list[tuple[str, str, Any]] = field(default_factory=list)  # (target, event, data)
    state_to_patients: bool = False
    status_to_clinician: bool = False

    def announce(self) -> None:
        """The phase changed: every device gets its state again, the clinician the status."""
        self.state_to_patients = True
        self.status_to_clinician = True

    def display(self, event: str, data: Any) -> None:
        self.messages.append(("display", event, data))

    def pad(self, event: str, data: Any) -> None:
        self.messages.append(("pad", event, data))

    def patients(self, event: str, data: Any) -> None:
        self.display(event, data)
        self.pad(event, data)

    def clinician(self, event: str, data: Any) -> None:
        self.messages.append(("clinician", event, data))

    def flush(self) -> None:
        rooms = {
            "display": (ev.display_room(self.public_id), ev.PATIENT_NS),
            "pad": (ev.pad_room(self.public_id), ev.PATIENT_NS),
            "clinician": (ev.watch_room(self.public_id), ev.CLINICIAN_NS),
        }
        for target, event, data in self.messages:
            room, namespace = rooms[target]
            socketio.emit(event, data, to=room, namespace=namespace)
        self.messages.clear()
