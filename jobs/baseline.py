"""spark-submit entry point: `spark-submit jobs/baseline.py --input ... --output ...`.

Takes the same arguments as `monitor baseline`; the Spark master and resources come from
spark-submit (local, spark://, yarn, k8s://). Exits with the CLI's exit codes.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

if __name__ == "__main__":
    from _bootstrap import run

    run("baseline")
