#!/usr/bin/env bash
# Sets everything up and serves ppm on http://127.0.0.1:5000 with SQLite and a demo project.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh runtime
export FLASK_APP=wsgi
.venv/bin/flask --app wsgi db upgrade
.venv/bin/flask --app wsgi ppm demo
echo "==> Serving ppm on http://127.0.0.1:5000 (Ctrl+C to stop)"
exec .venv/bin/flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}"
