#!/usr/bin/env bash
# Install into a fresh virtual environment and run the whole test suite (lint included).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
ensure_venv "[test]"
.venv/bin/ruff check monitor_service jobs tests bench demo
status=0
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$status"
