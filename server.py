"""Run Visus: Flask-SocketIO's `socketio.run` on eventlet's WSGI server (gunicorn 26+ has no eventlet
worker).

eventlet.monkey_patch() must run before any other import, so that sockets, threads and
database drivers imported below are cooperative.
"""

import eventlet

eventlet.monkey_patch()

import errno  # noqa: E402
import gc  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import eventlet.wsgi  # noqa: E402

from webapp import create_app, socketio  # noqa: E402
from webapp.startup import start_up  # noqa: E402


class NoDelayHttpProtocol(eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP protocol with TCP_NODELAY set on each accepted connection (the websocket
    after the upgrade is the same connection). The server's replies are small writes (an ack, a
    stimulus) that Nagle's algorithm would hold back until the client's delayed ACK (up to 40 ms
    on Linux): issue 12 measured the ack a median 50 ms after the answer without it, 5-14 ms with
    it (docs/platform.md §2)."""

    def setup(self):
        if self.request.family in (socket.AF_INET, socket.AF_INET6):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()


# Connections the kernel completes and queues while the process is busy (listen(2)'s backlog, capped
# by net.core.somaxconn). eventlet.listen's default, which socketio.run uses, is 50: while a burst of
# test set-ups keeps the one process busy, the 51st connect's SYN is dropped and the client retries
# after 1, 3, 7, 15 s (issue 12: 500 sessions starting within 5 s, link exchanges timed out).
LISTEN_BACKLOG = 1024
# Connections served at once (eventlet.wsgi's pool; its default is 1024). A WebSocket holds one for
# its whole life: a test has a display, a pad and the clinician's live view, so 500 tests need 1500,
# and a full pool stops accepting at all. A connection that waits costs a few kB of memory.
MAX_CONNECTIONS = 8192


def listen_with_backlog(addr, family=socket.AF_INET, backlog=LISTEN_BACKLOG, **kwargs):
    """eventlet.listen with LISTEN_BACKLOG: socketio.run calls `eventlet.listen(addr, family)` and has
    no way to pass a backlog, so main() puts this one in its place."""
    return _eventlet_listen(addr, family, backlog, **kwargs)


_eventlet_listen = eventlet.listen


def claim_port(host: str, port: int) -> socket.socket:
    """Bind and listen on (host, port) exclusively, or exit saying the port is taken.

    eventlet's `listen` (inside socketio.run) sets SO_REUSEPORT, so a second server on a port in use
    would start silently and share it, each with its own database. A socket without SO_REUSEPORT
    cannot bind a port that another socket holds, with or without it: this one tells. It is held
    through the start-up work (so a second server migrates and purges nothing) and closed just
    before socketio.run binds the port for good.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart while old connections linger
    try:
        sock.bind((host, port))
        sock.listen(1)  # two SO_REUSEADDR sockets may both bind; only one can listen
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            sys.exit(
                f"Visus cannot start: port {port} on {host} is already in use (another Visus server, or "
                f"another program). Stop that one, or choose another port: VISUS_PORT=5001 python server.py"
            )
        raise
    return sock


def main() -> None:
    app = create_app()  # changes nothing (webapp/startup.py does the start-up work)
    host, port = app.config["HOST"], app.config["PORT"]  # VISUS_HOST, VISUS_PORT (webapp/config.py)
    claimed = claim_port(host, port)  # before start_up: a second server must not migrate or purge anything
    start_up(app)  # database, retention, secret key: the factory itself changes nothing
    # An eventlet process serves one event at a time, so a full garbage collection stalls every
    # connection. Start-up leaves about 175,000 objects (modules, classes, functions) that live as
    # long as the process: freezing them keeps them out of every later collection. bench/soak.py,
    # 200 sessions for 150 s: the full collections' pause fell from about 100 ms to 30 ms and the
    # answer -> clinician p99 from 134 to 73 ms (docs/performance.md, section 2).
    gc.collect()
    gc.freeze()
    app.logger.info("Visus listening on http://%s:%d/", host, port)
    claimed.close()
    eventlet.listen = listen_with_backlog
    # log_output=False: no access log, which would hold the invite and pad tokens. max_size: the
    # pool of eventlet.wsgi.server, which socketio.run passes on.
    socketio.run(app, host=host, port=port, log_output=False, protocol=NoDelayHttpProtocol, max_size=MAX_CONNECTIONS)


if __name__ == "__main__":
    main()
