#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint and types, then every test on SQLite,
# then every test again on a real PostgreSQL server, with a real Redis and Debian's Chromium.
# The servers are throwaway, listen on 127.0.0.1 only, and are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
PY=.venv/bin/python
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium || echo /usr/bin/chromium)}"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

work=$(mktemp -d)
chmod 755 "$work"
pg_data="$work/pg"
cleanup() {
  if [ -n "${PGBIN:-}" ] && [ -f "$pg_data/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${REDIS_PORT:-}" ]; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy

echo "==> Starting Redis on 127.0.0.1"
REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
  --dir "$work" --logfile "$work/redis.log" >/dev/null
export PPM_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

run_pytest() {
  # pytest exits 5 when it collected no tests: that is a failure here, like any other non-zero.
  local status=0
  "$PY" -m pytest "$@" || status=$?
  if [ "$status" -eq 5 ]; then echo "pytest collected no tests: failing" >&2; fi
  return "$status"
}

echo "==> Tests on SQLite"
run_pytest -q "$@"

echo "==> Starting PostgreSQL on 127.0.0.1"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_PORT=$(free_port)
mkdir -p "$pg_data" && chown postgres:postgres "$pg_data"
runuser -u postgres -- "$PGBIN/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$pg_data" -l "$pg_data/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $pg_data -c fsync=off" start >/dev/null
runuser -u postgres -- "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres ppm_test
export PPM_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/ppm_test"

echo "==> Tests on PostgreSQL"
run_pytest -q "$@"
echo "==> All tests passed on SQLite and PostgreSQL"
