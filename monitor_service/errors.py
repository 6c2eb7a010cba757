"""One exception tree for the whole project, translated at the edges.

Every error a user can see says *what* went wrong, *where* (a path, a field, a feature) and
*how to fix it*. The CLI maps these to exit codes (usage errors -> 2, everything else -> 1);
the REST API maps them to HTTP statuses.

MonitorError
 +-- ConfigError            invalid settings, CLI arguments or dataset config (usage)
 |    +-- InvalidField      a well-formed request value that cannot be used; names the field (API 422)
 |    +-- DeequUnavailable  the Deequ runtime (sidecar venv or jar) is not installed; names the install command
 +-- InputError             input data cannot be used at all (no files, empty window)
 |    +-- EmptyInputError   nothing left to analyze after reading and filtering
 +-- FormatError            a statistics / constraints / violations file is malformed
 +-- BaselineMismatchError  the window cannot be compared with the baseline
 +-- JobError               the Spark job failed (wraps Py4J / Spark errors)
 +-- ModelError             a model cannot be loaded or called (file, framework, endpoint, payload)
 |    +-- ModelInvocationError  the model answered an invocation with an error status (gateway: 424)
 +-- StoreError             database / artifact store problems (service side)
      +-- NotFoundError     a looked-up id does not exist (API 404)
      +-- ConflictError     the change clashes with existing state (API 409)
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


class InvalidField(ConfigError):
    """A request value that is well-formed but unusable; `field` names it for the 422 answer.

    `location` is where the request carried it: `body` (the default) or `query`.
    """

    def __init__(self, field: str, message: str, *, hint: str | None = None, location: str = "body") -> None:
        self.field, self.location = field, location
        super().__init__(message, hint=hint)


class DeequUnavailable(ConfigError):
    """A Deequ feature was asked for but neither the SparkSession nor the Deequ runtime has Deequ."""


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


class RunCancelled(JobError):
    """The run was asked to stop (by hand, past its maximum runtime, at shutdown) while it ran."""


class ModelError(MonitorError):
    """A model could not be loaded or did not answer: the message names the model and what to change."""


class ModelInvocationError(ModelError):
    """A model answered one invocation with an error: `status` is the model's own HTTP status.

    4xx means the request was unusable for the model (bad payload, unsupported content type),
    5xx that the model failed; the gateway answers SageMaker's ModelError (424) carrying it.
    """

    def __init__(self, status: int, message: str, *, hint: str | None = None) -> None:
        self.status = status
        super().__init__(message, hint=hint)


class StoreError(MonitorError):
    """Database or artifact-store failure in the service."""


class NotFoundError(StoreError):
    """A requested object does not exist; the message names the missing id."""


class ConflictError(StoreError):
    """The change clashes with existing state (a duplicate name, a baseline still in use)."""
