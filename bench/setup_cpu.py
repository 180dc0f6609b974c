"""The server CPU and database statements of one test's set-up, in-process: the clinician's live view
connects and watches, the patient's browser exchanges the link, the display connects, consents,
calibrates and starts (the first letter), as bench/relay_latency.py does over the network.

    python bench/setup_cpu.py [--setups 30]

Flask-SocketIO's test client (threading) on a temporary migrated SQLite file; prints the median and
best CPU milliseconds per set-up (process time, so the clients' small share is included) and the
statements per set-up. A timing, so a benchmark, not a test: tests/test_setup_statements.py checks
the statements.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event  # noqa: E402

from tests.support.app import CALIBRATION, add_clinician, create_test, login, make_app, watcher, with_schema  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = with_schema(make_app(Path(folder) / "bench.db"))
        from webapp import socketio
        from webapp.extensions import db

        client = app.test_client()
        add_clinician(app)
        login(client)
        tokens = [create_test(client, procedure="adaptive") for _ in range(args.setups)]
        count = [0]
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
        cpu_ms, statements = [], []
        for public_id, token in tokens:
            count[0] = 0
            start_s = time.process_time()
            live_view = watcher(app, client)
            assert live_view.send("watch", {"session_id": public_id})["ok"]
            browser = app.test_client()
            assert browser.get(f"/t/{token}").status_code == 303
            screen = socketio.test_client(
                app, namespace="/patient", auth={"device": "display"}, flask_test_client=browser
            )
            for name, data in (("consent", {}), ("calibration", CALIBRATION), ("ready", {})):
                assert screen.emit(name, data, namespace="/patient", callback=True)["ok"]
            cpu_ms.append((time.process_time() - start_s) * 1000)
            statements.append(count[0])
            screen.disconnect(namespace="/patient")
            live_view.disconnect()
    print(
        f"{args.setups} set-ups: CPU per set-up median {statistics.median(cpu_ms):.1f} ms, "
        f"best {min(cpu_ms):.1f} ms; statements per set-up {statistics.median(statements):.0f}"
    )


if __name__ == "__main__":
    main()
