"""Socket.IO namespaces of the live test: /patient (display and pad) and /clinician."""

from webapp.live import clinician, patient  # noqa: F401
