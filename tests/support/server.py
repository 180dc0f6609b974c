"""A real server process for the tests: devtools.servers.VisusServer (`python server.py` on a free
port, own SQLite file and secret key) plus what the tests read from it: its log, kept in
test-artifacts/, and the answers it stored."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from devtools.servers import VisusServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class ServerProcess(VisusServer):
    def keep_log(self, name: str) -> None:
        """Copy the server's output to test-artifacts/<name>."""
        ARTIFACTS.mkdir(exist_ok=True)
        if self.log_path.exists():
            (ARTIFACTS / name).write_text(self.log_path.read_text())

    def stored_trials(self, public_id: str) -> list[tuple[str, int, int, list]]:
        """(eye, index, seq, responses) of every stored answer of a session, read from the file."""
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                'SELECT eye_test.eye, trial."index", trial.seq, trial.responses FROM trial'
                " JOIN eye_test ON eye_test.id = trial.eye_test_id"
                " JOIN test_session ON test_session.id = eye_test.session_id"
                " WHERE test_session.public_id = ? ORDER BY trial.seq",
                (public_id,),
            ).fetchall()
        return [(eye, index, seq, json.loads(responses)) for eye, index, seq, responses in rows]
