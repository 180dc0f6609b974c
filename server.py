"""Run Visus with eventlet's own WSGI server (gunicorn 26+ has no eventlet worker).

eventlet.monkey_patch() must run before any other import, so that sockets, threads and
database drivers imported below are cooperative.
"""
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402

from webapp import create_app, socketio  # noqa: E402


def main() -> None:
    app = create_app()
    host = os.environ.get("VISUS_HOST", "127.0.0.1")
    port = int(os.environ.get("VISUS_PORT", "5000"))
    app.logger.info("Visus listening on http://%s:%d/", host, port)
    socketio.run(app, host=host, port=port, log_output=False)


if __name__ == "__main__":
    main()
