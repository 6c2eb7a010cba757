# Shared by demo.sh and test.sh: create .venv if needed and install the project into it.
ensure_venv() {
  local extras="$1"
  if ! command -v java >/dev/null 2>&1; then
    echo "error: Java is not installed; PySpark 4.1 needs Java 17 (e.g. apt-get install openjdk-17-jre-headless)" >&2
    exit 1
  fi
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: $python is older than Python 3.11" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${extras}"
}
