"""Tools for developers, shared by the tests (tests/) and the benchmarks (bench/): starting real
server processes (`python server.py`, PostgreSQL, Redis, nginx) on free ports of 127.0.0.1, and
opening a patient link as a browser would (devtools/patient_links.py).

Neither the server nor the tests depend on anything else here; the benchmarks import it without
importing the tests. Test-only helpers live in tests/support/.
"""
