#!/usr/bin/env bash
# Install into a fresh virtual environment (and the Debian packages the browser and Prometheus tests
# drive) and run the whole test suite (lint included).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_deequ.sh
source scripts/_system_packages.sh
ensure_debian_packages   # chromium (browser tests) and prometheus (scrape test), when missing
ensure_venv "[test]"
ensure_deequ_runtime     # .venv/deequ: pyspark 3.5 + pydeequ + the Deequ jar (docs/deequ.md)
.venv/bin/ruff check monitor_service jobs tests bench demo
status=0
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$status"
