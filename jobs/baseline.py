"""spark-submit entry point: `spark-submit jobs/baseline.py --input ... --output ...`.

Takes the same arguments as `monitor baseline`; the Spark master and resources come from
spark-submit (any master: local, spark://, yarn, k8s://). Exits with the CLI's exit codes.
On a cluster, ship the package with `--py-files` (a wheel or zip of monitor_service) or
install it on every node.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bootstrap import ensure_package

ensure_package()

from monitor_service.cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["baseline", *sys.argv[1:]]))
