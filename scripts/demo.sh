#!/usr/bin/env bash
# Install into a fresh virtual environment and run the end-to-end demo on embedded defaults
# (local Spark, SQLite, local artifact folder). Needs Python >= 3.11 and Java 17.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
source scripts/_deequ.sh
ensure_venv "[sklearn]"
ensure_deequ_runtime     # .venv/deequ: pyspark 3.5 + pydeequ + the Deequ jar (docs/deequ.md)
.venv/bin/python -m demo --workdir "${DEMO_DIR:-demo-output}"
