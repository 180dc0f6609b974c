#!/usr/bin/env bash
# A small supervisor for machines without systemd: N Visus processes on ports BASE..BASE+N-1,
# each restarted when it dies; Ctrl-C or SIGTERM stops them all.
#
#   DATABASE_URL=postgresql://... REDIS_URL=redis://127.0.0.1:6379/0 VISUS_SECRET_KEY=... \
#     deploy/run-processes.sh 4 5001
#
# The database is migrated once before the processes start (never by several at once).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-2}"
base_port="${2:-5001}"
: "${DATABASE_URL:?set DATABASE_URL (postgresql://...)}"
: "${REDIS_URL:?set REDIS_URL (redis://...): several processes need the message queue}"
: "${VISUS_SECRET_KEY:?set VISUS_SECRET_KEY: the same secret for every process}"
python="${PYTHON:-python3}"

"$python" -m flask --app webapp db upgrade
export VISUS_AUTO_MIGRATE=0

pids=()
stopping=0
stop_all() {
  stopping=1
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
  exit 0
}
trap stop_all INT TERM

supervise() {  # one port: run, and run again after a crash (one second apart)
  local port="$1"
  while [ "$stopping" -eq 0 ]; do
    VISUS_PORT="$port" "$python" server.py &
    local child=$!
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM
    wait "$child" || echo "visus on port $port exited with $?; restarting" >&2
    sleep 1
  done
}

for ((i = 0; i < count; i++)); do
  supervise $((base_port + i)) &
  pids+=($!)
done
echo "visus: $count processes on ports $base_port..$((base_port + count - 1))" >&2
wait
