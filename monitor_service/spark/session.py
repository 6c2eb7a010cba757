"""Building the SparkSession: local by default, any master when given.

Under `spark-submit` the master and resources come from the submit command, so `get_session`
only sets what the job needs (timezone, quiet logs). Locally we default to `local[*]` with the
UI off. Nothing here runs at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Settings every session of ours needs, whatever the master.
BASE_CONF: dict[str, str] = {
    # Small input splits keep each task's parsed rows small, so memory stays bounded.
    "spark.sql.files.maxPartitionBytes": str(32 * 1024 * 1024),
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.caseSensitive": "true",
    "spark.sql.jsonGenerator.ignoreNullFields": "false",
    # Whole-stage code generation for projections of up to 200 columns: the wide plan of plain
    # CSV capture (`spark.wide`) holds three per field (interpreted, it runs about 2x slower).
    "spark.sql.codegen.maxFields": "200",
}

LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.adaptive.enabled": "true",
}


def get_session(
    master: str | None = None,
    app_name: str = "monitor-service",
    conf: dict[str, str] | None = None,
    progress: bool = False,
) -> SparkSession:
    """Return the active session or build one; `master=None` keeps what spark-submit set."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        # A session made elsewhere (a notebook, the scheduler, tests) still gets the settings
        # results depend on: UTC timestamps, case-sensitive names, non-ANSI casts.
        for key in ("spark.sql.session.timeZone", "spark.sql.ansi.enabled", "spark.sql.caseSensitive"):
            active.conf.set(key, BASE_CONF[key])
        return active
    builder = SparkSession.builder.appName(app_name)
    settings = dict(BASE_CONF)
    submitted = _running_under_spark_submit()
    if master is not None or not submitted:
        builder = builder.master(master or "local[*]")
        if (master or "local").startswith("local"):
            settings.update(LOCAL_CONF)
            _local_python()
    if progress:
        settings["spark.ui.showConsoleProgress"] = "true"
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _local_python() -> None:
    """Local Python workers (pandas UDFs, e.g. SHAP) run in this interpreter, with its packages.

    PySpark picks the workers' interpreter from PYSPARK_PYTHON when the context starts, else
    `python3` from PATH, which may be another environment entirely. An explicit setting wins.
    """
    import os
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def _running_under_spark_submit() -> bool:
    import os

    # spark-submit exports the master it was given to the Python driver through this variable.
    return "SPARK_ENV_LOADED" in os.environ or os.environ.get("PYSPARK_GATEWAY_PORT") is not None
