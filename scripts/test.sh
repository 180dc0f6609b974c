#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, check lint and format, then run the
# tests (arguments go to pytest). Idempotent: what is already there is not installed again.
# VISUS_SKIP_LINT=1 skips the lint step while you work (never in CI: .ci/run does not set it).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || need_apt+=(fonts-dejavu-core)
# Scale-out tests (tests/scaleout): real PostgreSQL, Redis and nginx, started on free ports by the tests.
# (Installing postgresql may start Debian's own cluster on 5432; harmless, the tests use their own.)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
# The report's PDF pages as pictures (tests/e2e/test_report_screenshot.py): poppler's pdftoppm.
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
# The video call's TURN tests (tests/e2e/test_call.py): coturn, started on a free port by the test.
command -v turnserver >/dev/null 2>&1 || need_apt+=(coturn)
# openssl: the self-signed certificate of the implicit-TLS SMTP test (tests/support/smtp.py)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python3 -m pip install -q -r requirements-test.txt
if [ "${VISUS_SKIP_LINT:-0}" = "1" ]; then
  echo "test.sh: VISUS_SKIP_LINT=1: lint and format check skipped" >&2
else
  bash scripts/lint.sh || { echo "test.sh: stopped before the tests: lint or format failed (scripts/lint.sh)" >&2; exit 1; }
fi
# One process by default: on a 2-core machine two workers gained 4% (1407 s against 1469 s) and made
# the call's media and a practice page time out while a browser test ran beside them (README, set-up).
# VISUS_TEST_WORKERS=2 runs two pytest-xdist workers, each running whole modules, the slowest first
# (tests/support/schedule.py): for a machine with more cores.
python3 -m pytest -n "${VISUS_TEST_WORKERS:-0}" --dist loadfile "$@"
