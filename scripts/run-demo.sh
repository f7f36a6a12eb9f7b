#!/usr/bin/env bash
# Sets everything up and serves ppm on http://127.0.0.1:5000 with SQLite and a demo project,
# beside a throwaway Redis on 127.0.0.1 and one job worker (background refresh, SPEC §14).
# Ctrl+C stops the web server; the worker and Redis are stopped with it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh demo
export FLASK_APP=wsgi

work=$(mktemp -d)
worker_pid=""
redis_port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
cleanup() {
  if [ -n "$worker_pid" ]; then kill -TERM "$worker_pid" 2>/dev/null || true; wait "$worker_pid" 2>/dev/null || true; fi
  redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> Starting a throwaway Redis on 127.0.0.1:$redis_port"
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize yes \
  --dir "$work" --logfile "$work/redis.log" >/dev/null
export REDIS_URL="redis://127.0.0.1:$redis_port/0"

.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi ppm demo

echo "==> Starting one job worker (its log: $work/worker.log)"
.venv/bin/flask --app wsgi ppm worker >"$work/worker.log" 2>&1 &
worker_pid=$!

echo "==> Serving ppm on http://127.0.0.1:${PORT:-5000} (Ctrl+C to stop)"
.venv/bin/flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}"
