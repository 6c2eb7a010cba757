# Shared by demo.sh and test.sh: the Deequ runtime the `deequ` engine and checks run in.
# Deequ has no Spark 4.1 build on Maven Central (2.0.18-spark-4.1 is not published; the newest is
# 2.1.0-spark-3.5, Scala 2.12), so it runs in a sidecar: a virtualenv inside .venv with pyspark 3.5
# and pydeequ, and the jar fetched here with Maven. Nothing downloads at run time. docs/deequ.md.
DEEQU_VERSION="2.1.0-spark-3.5"
ensure_deequ_runtime() {
  local home=".venv/deequ"
  local python="${PYTHON:-python3}"
  if ! command -v mvn >/dev/null 2>&1; then
    echo "error: Maven (mvn) is needed to fetch the Deequ jar (e.g. apt-get install maven)" >&2
    exit 1
  fi
  if [ ! -x "$home/bin/python" ]; then
    "$python" -m venv "$home"
  fi
  if ! "$home/bin/python" -c 'import pyspark, pydeequ, pyarrow, pandas; assert pyspark.__version__ == "3.5.7"' 2>/dev/null; then
    "$home/bin/python" -m pip install --quiet --upgrade pip
    "$home/bin/python" -m pip install --quiet "pyspark==3.5.7" "pydeequ==1.7.0" "pandas>=2.0" "pyarrow>=14"
  fi
  if [ ! -f "$home/jars/deequ-$DEEQU_VERSION.jar" ]; then
    mkdir -p "$home/jars"
    mvn -q -B -f scripts/deequ/pom.xml dependency:copy-dependencies -DincludeArtifactIds=deequ \
      -DoutputDirectory="$PWD/$home/jars"
  fi
}

# Run alone (`bash scripts/_deequ.sh`): install the runtime into an existing .venv.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  ensure_deequ_runtime
fi
