"""One exception tree for the whole project, translated at the edges.

Every error a user can see says *what* went wrong, *where* (a path, a field, a feature) and
*how to fix it*. The CLI maps these to exit codes (usage errors -> 2, everything else -> 1);
the REST API maps them to HTTP statuses.

MonitorError
 +-- ConfigError            invalid settings, CLI arguments or dataset config (usage)
 +-- InputError             input data cannot be used at all (no files, empty window)
 |    +-- EmptyInputError   nothing left to analyze after reading and filtering
 +-- FormatError            a statistics / constraints / violations file is malformed
 +-- BaselineMismatchError  the window cannot be compared with the baseline
 +-- JobError               the Spark job failed (wraps Py4J / Spark errors)
 +-- StoreError             database / artifact store problems (service side)
      +-- NotFoundError     a looked-up id does not exist
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error raised on purpose by this project."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


class ConfigError(MonitorError):
    """Invalid configuration or arguments; the user must change what they passed."""


class InputError(MonitorError):
    """The input data cannot be used (missing path, unreadable files)."""


class EmptyInputError(InputError):
    """Nothing to analyze: no records, or none inside the requested window."""


class FormatError(MonitorError):
    """A JSON artifact (statistics, constraints, violations) does not have the expected shape."""


class BaselineMismatchError(MonitorError):
    """A window and a baseline cannot be compared (e.g. nothing in common)."""


class JobError(MonitorError):
    """A Spark job failed for a reason outside the data (JVM, cluster, resources)."""


class StoreError(MonitorError):
    """Database or artifact-store failure in the service."""


class NotFoundError(StoreError):
    """A requested object does not exist; the message names the missing id."""
