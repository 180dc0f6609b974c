"""server.py under many connections at once (issue 12): a burst of connects while the process is busy
is queued by the kernel, not dropped, and more connections than eventlet's default pool are served."""

from __future__ import annotations

import os
import select
import signal
import socket
import time

import requests

from tests.support.server import ServerProcess

BURST = 300  # connects while the process cannot accept: more than eventlet's default backlog of 50
HELD = 1100  # connections held open at once: more than eventlet.wsgi's default pool of 1024


def _somaxconn() -> int:
    with open("/proc/sys/net/core/somaxconn") as value:
        return int(value.read())


def _connect_all(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        sockets.append(sock)
    return sockets


def _established(sockets: list[socket.socket], wait_s: float) -> int:
    """How many of the non-blocking connects completed within `wait_s` (writable, no error)."""
    poller = select.poll()  # not select(): it takes no descriptor above 1023
    for sock in sockets:
        poller.register(sock, select.POLLOUT)
    pending, done, deadline = {sock.fileno(): sock for sock in sockets}, 0, time.monotonic() + wait_s
    while pending and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            poller.unregister(fd)
            done += pending.pop(fd).getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    return done


def test_a_burst_of_connects_while_the_server_is_busy_is_queued_and_then_served(tmp_path):
    """The process stopped (SIGSTOP: as busy as it can be), BURST connects complete at once (the
    kernel queues them, up to the listen backlog); once it runs again, every one gets its answer."""
    assert _somaxconn() > BURST  # the kernel's cap on any backlog (server.py asks for 1024)
    process = ServerProcess(tmp_path).start()
    sockets: list[socket.socket] = []
    try:
        os.kill(process.process.pid, signal.SIGSTOP)
        try:
            sockets = _connect_all(process.port, BURST)
            completed = _established(sockets, 5)
            for sock in sockets:
                sock.setblocking(True)
                sock.settimeout(30)
        finally:
            os.kill(process.process.pid, signal.SIGCONT)
        # A dropped SYN would leave the connect pending until a retry 1, 3, 7 ... s later.
        assert completed == BURST, f"{BURST - completed} of {BURST} connects were not queued"
        for sock in sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answered = sum(1 for sock in sockets if sock.recv(64).startswith(b"HTTP/1.1 200"))
        assert answered == BURST
    finally:
        for sock in sockets:
            sock.close()
        process.stop()


def test_more_connections_than_eventlets_default_pool_are_served(tmp_path):
    """HELD connections each hold a request half sent (as a WebSocket holds its connection for its
    life); a new request is still answered."""
    process = ServerProcess(tmp_path).start()
    sockets: list[socket.socket] = []
    try:
        for _ in range(HELD):
            sockets.append(socket.create_connection(("127.0.0.1", process.port), timeout=30))
            sockets[-1].sendall(b"GET /healthz HTTP/1.1\r\n")  # no blank line: the server waits for the rest
        assert requests.get(process.base_url + "/healthz", timeout=20).ok
    finally:
        for sock in sockets:
            sock.close()
        process.stop()
