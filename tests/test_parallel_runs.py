"""What lets the tests run on several pytest-xdist workers at once (scripts/test.sh, `-n 2 --dist
loadfile`): each worker's ports come from a block of its own (devtools/servers.py), and the modules
are handed out whole, the slowest first, the scale-out tests together (tests/support/schedule.py)."""

from __future__ import annotations

import socket
from collections import OrderedDict
from pathlib import Path

from devtools import servers
from tests.support.schedule import KNOWN_WALL_S, SCALEOUT, LongestFirst


def test_each_worker_takes_its_ports_from_a_block_of_its_own(monkeypatch):
    ports = {}
    for worker in ("gw0", "gw1"):
        monkeypatch.setattr(servers, "WORKER", worker)
        monkeypatch.setattr(servers, "_next_worker_port", 0)  # two processes may start at the same offset
        ports[worker] = [servers.free_port() for _ in range(20)]
    assert all(len(set(taken)) == 20 for taken in ports.values()), ports  # never the same port twice
    assert not set(ports["gw0"]) & set(ports["gw1"]), ports
    # Below the kernel's ephemeral ports (outgoing connections) and coturn's relay ports (20000 and up).
    low, _high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    assert all(port < min(low, 20000) for taken in ports.values() for port in taken), ports


def test_a_port_something_listens_on_is_passed_over(monkeypatch):
    monkeypatch.setattr(servers, "WORKER", "gw3")
    start = servers._next_worker_port
    port = servers.free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        monkeypatch.setattr(servers, "_next_worker_port", start)  # the same port comes up again
        assert servers.free_port() != port


class Worker:
    def __init__(self):
        self.sent: list[list[int]] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes):
        self.sent.append(indexes)


def test_workers_get_whole_modules_the_slowest_first_and_the_scaleout_tests_together():
    slowest = sorted(KNOWN_WALL_S, key=KNOWN_WALL_S.get, reverse=True)[:2]
    nodeids = [
        "tests/test_a.py::test_one",
        "tests/test_a.py::test_two",
        f"{SCALEOUT}/test_one.py::test_x",
        f"{SCALEOUT}/test_two.py::test_y",
        f"{slowest[1]}::test_b",
        f"{slowest[0]}::test_c",
    ]
    scheduler = LongestFirst.__new__(LongestFirst)  # the work queue alone, without a pytest session
    scheduler.workqueue = OrderedDict()
    for nodeid in nodeids:
        scheduler.workqueue.setdefault(scheduler._split_scope(nodeid), {})[nodeid] = False
    scheduler.assigned_work = {}
    first, second = Worker(), Worker()
    scheduler.registered_collections = {first: nodeids, second: nodeids}

    for worker in (first, second, first, second):
        scheduler._assign_work_unit(worker)
    assert [nodeids[i] for i in first.sent[0]] == [f"{slowest[0]}::test_c"]
    assert [nodeids[i] for i in second.sent[0]] == [f"{slowest[1]}::test_b"]
    # Then the scale-out tests, both on one worker (one PostgreSQL + Redis), then the unlisted module.
    assert [nodeids[i] for i in first.sent[1]] == [f"{SCALEOUT}/test_one.py::test_x", f"{SCALEOUT}/test_two.py::test_y"]
    assert [nodeids[i] for i in second.sent[1]] == ["tests/test_a.py::test_one", "tests/test_a.py::test_two"]
    assert not scheduler.workqueue
