#!/usr/bin/env bash
# Installs what ppm needs on a fresh Debian machine: Debian packages when missing, a venv, and
# the pinned Python packages. Safe to run again: it only does what is missing.
# Usage: scripts/bootstrap.sh [runtime|demo|test]
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-runtime}"

need_apt=()
if [ "$mode" = "test" ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need_apt+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
fi
if [ "$mode" = "demo" ]; then  # the demo runs a real job queue: a throwaway Redis and a worker
  command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
fi
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "==> Installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

requirements=requirements.txt
[ "$mode" = "test" ] && requirements=requirements-dev.txt
stamp=".venv/.installed-$(sha256sum "$requirements" requirements.txt | sha256sum | cut -c1-16)"
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating the virtual environment in .venv"
  python3 -m venv .venv
fi
if [ ! -f "$stamp" ]; then
  echo "==> Installing pinned Python packages from $requirements"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  touch "$stamp"
fi
