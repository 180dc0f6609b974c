"""The work of a server starting up, kept out of create_app so that building the app changes nothing.

`python3 server.py` calls `start_up(app)` once before it serves. Each step also has its explicit
command for an operator: `flask --app webapp db upgrade` (Flask-Migrate), `flask --app webapp
purge-expired` (webapp/privacy.py).
"""

from __future__ import annotations

import os

from flask import Flask

from webapp import config, privacy
from webapp.live import processes
from webapp.live.patient import forget_connections_of_earlier_runs
from webapp.schema import upgrade_if_behind


def start_up(app: Flask) -> None:
    """Instance folder and secret key, schema (VISUS_AUTO_MIGRATE), retention (VISUS_RETENTION_DAYS),
    device connections left by an earlier run of this process, the heartbeat of the live processes."""
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.make_secret_key(app.instance_path)
    if app.config["AUTO_MIGRATE"]:
        upgrade_if_behind(app)
    with app.app_context():
        if privacy.retention_days(app) is not None:
            count = privacy.purge_expired(app)
            if count:
                app.logger.info("Removed %d session(s) older than the retention period.", count)
        forget_connections_of_earlier_runs()
    processes.start(app)  # several processes: the heartbeat and the registry of their sockets
