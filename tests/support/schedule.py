"""How pytest-xdist shares the test modules between its workers (scripts/test.sh runs `-n 2 --dist
loadfile`; tests/conftest.py hands xdist this scheduler).

Each module runs whole on one worker, so its module-scoped servers and browsers are started once. A
worker that needs work gets the slowest module still waiting, so the two workers finish together
instead of one starting a 150 s module while the other has nothing left. The scale-out tests are
one unit: they share one PostgreSQL + Redis per worker (tests/scaleout/conftest.py `cluster`).
"""

from __future__ import annotations

from xdist.scheduler import LoadFileScheduling

SCALEOUT = "tests/scaleout"

# Wall seconds of the slowest modules (the table every run prints at its end, tests/conftest.py; these
# from a two-worker run on a heavily loaded 2-core machine, 2026-12-01). Only the order matters: a
# module missing here (0 s) waits until these have been handed out. Update it when a module becomes
# one of the slow ones.
KNOWN_WALL_S = {
    "tests/e2e/test_drawn_size.py": 846,
    "tests/e2e/test_call.py": 614,
    "tests/test_phases.py": 526,
    "tests/e2e/test_patient_steps.py": 514,
    "tests/e2e/test_live_layout.py": 494,
    "tests/e2e/test_distance_guard.py": 418,
    "tests/test_security_hardening.py": 348,
    "tests/test_sockets_validation.py": 344,
    "tests/test_access_control.py": 337,
    "tests/e2e/test_near_distance_guard.py": 209,
    "tests/faults/test_socket_faults.py": 190,
    "tests/test_reports.py": 171,
    "tests/test_optotypes.py": 160,
    SCALEOUT: 157,
    "tests/test_sockets_steering.py": 140,
}


class LongestFirst(LoadFileScheduling):
    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(SCALEOUT + "/"):
            return SCALEOUT
        return super()._split_scope(nodeid)

    def _assign_work_unit(self, node) -> None:
        longest = max(self.workqueue, key=lambda scope: KNOWN_WALL_S.get(scope, 0))
        self.workqueue.move_to_end(longest, last=False)
        super()._assign_work_unit(node)
