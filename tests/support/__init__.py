"""Helpers shared by the tests; test modules import from here, never from each other or a conftest.

- app.py: the app on a SQLite copy of the migrated schema, its Socket.IO test clients, the
  clinician and test set-up through the app's own routes, every stored row;
- reports.py: a chart test scripted to its end through the sockets (reports, exports);
- clients.py: clients of a real server process (requests, python-socketio recorders);
- server.py: `python server.py` for a test (devtools.servers), its log kept, its stored answers read;
- browser.py, flows.py: Debian's Chromium and the pages' common steps for the browser tests;
- scripted.py: a patient's display scripted over a websocket of the real server (finished tests);
- migration_data.py: a real database taken to the revision before practices and brought back up;
- svgraster.py: a small rasteriser of the optotypes' SVG paths.

Starting processes (`python server.py`, PostgreSQL, Redis, nginx) is devtools/ (shared with bench/).
"""
