"""Self-hosted ML model monitoring on Apache Spark, file-compatible with SageMaker Model Monitor.

Importing this package has no side effects: no environment reads, no connections, no JVM.
"""

__version__ = "0.1.0"
