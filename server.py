"""Run Visus with eventlet's own WSGI server (gunicorn 26+ has no eventlet worker).

eventlet.monkey_patch() must run before any other import, so that sockets, threads and
database drivers imported below are cooperative.
"""
import eventlet

eventlet.monkey_patch()

import gc  # noqa: E402

from webapp import create_app, socketio  # noqa: E402
from webapp.startup import start_up  # noqa: E402


def main() -> None:
    app = create_app()
    start_up(app)  # database, retention, secret key: the factory itself changes nothing
    # An eventlet process serves one event at a time, so a full garbage collection stalls every
    # connection. Start-up leaves about 175,000 objects (modules, classes, functions) that live as
    # long as the process: freezing them keeps them out of every later collection. bench/soak.py,
    # 200 sessions for 150 s: the full collections' pause fell from about 100 ms to 30 ms and the
    # answer -> clinician p99 from 134 to 73 ms (docs/performance.md, section 2).
    gc.collect()
    gc.freeze()
    host, port = app.config["HOST"], app.config["PORT"]  # VISUS_HOST, VISUS_PORT (webapp/config.py)
    app.logger.info("Visus listening on http://%s:%d/", host, port)
    socketio.run(app, host=host, port=port, log_output=False)


if __name__ == "__main__":
    main()
