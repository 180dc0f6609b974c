"""Run Visus with eventlet's own WSGI server (gunicorn 26+ has no eventlet worker).

eventlet.monkey_patch() must run before any other import, so that sockets, threads and
database drivers imported below are cooperative.
"""
import eventlet

eventlet.monkey_patch()

import errno  # noqa: E402
import gc  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import eventlet.green.socket  # noqa: E402
import eventlet.wsgi  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.startup import start_up  # noqa: E402


class NoDelayListener:
    """The listening socket, handing out connections with TCP_NODELAY set: the server's replies are
    small writes (an ack, a stimulus) that Nagle's algorithm would hold back until the client's
    delayed ACK (up to 40 ms on Linux); issue 12 measured the ack a median 50 ms after the answer
    without it, 5-14 ms with it."""

    def __init__(self, sock):
        self._sock = sock

    def accept(self):
        connection, address = self._sock.accept()
        if connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def __getattr__(self, name):
        return getattr(self._sock, name)


def _port_in_use(host: str, port: int):
    sys.exit(f"Visus cannot start: port {port} on {host} is already in use (another Visus server, or "
             f"another program). Stop that one, or choose another port: VISUS_PORT=5001 python server.py")


def bind(host: str, port: int):
    """The server's socket, bound (the port is ours) but not yet listening: connections are refused,
    not left waiting, until the app is ready. Exits with a message if the port is taken. No
    SO_REUSEPORT (eventlet's default): a second server on the same port would silently share it,
    each with its own database."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = eventlet.green.socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart while old connections linger
    try:
        sock.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            _port_in_use(host, port)
        raise
    return sock


def listen(sock, backlog: int = 1024) -> NoDelayListener:
    """Start listening (SO_REUSEADDR lets two servers bind at once; only one can listen)."""
    try:
        sock.listen(backlog)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            host, port = sock.getsockname()[:2]
            _port_in_use(host, port)
        raise
    return NoDelayListener(sock)


def main() -> None:
    app = create_app()  # changes nothing (webapp/startup.py does the start-up work)
    host, port = app.config["HOST"], app.config["PORT"]  # VISUS_HOST, VISUS_PORT (webapp/config.py)
    sock = bind(host, port)  # before start_up: a second server must not migrate or purge anything
    start_up(app)  # database, retention, secret key: the factory itself changes nothing
    # An eventlet process serves one event at a time, so a full garbage collection stalls every
    # connection. Start-up leaves about 175,000 objects (modules, classes, functions) that live as
    # long as the process: freezing them keeps them out of every later collection. bench/soak.py,
    # 200 sessions for 150 s: the full collections' pause fell from about 100 ms to 30 ms and the
    # answer -> clinician p99 from 134 to 73 ms (docs/performance.md, section 2).
    gc.collect()
    gc.freeze()
    app.logger.info("Visus listening on http://%s:%d/", host, port)
    # What socketio.run(app) does under eventlet, with this listener (log_output=False: no access log,
    # which would hold the invite and pad tokens).
    eventlet.wsgi.server(listen(sock), app, log_output=False)


if __name__ == "__main__":
    main()
