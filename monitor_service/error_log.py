"""Where an unexpected failure's traceback goes, so "this is a bug" can point at real details.

A job never shows a stack trace to its user (`runner.common.describe_failure` turns every
failure into a sentence), but for a bug the traceback is what a maintainer needs. So it is
written next to the job's other outputs, `{output}/error.log`, and the failure reason names
that file. When the output folder cannot be written the reason says so instead of pointing at
a log that does not exist.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime

from monitor_service import io

ERROR_LOG = "error.log"


def write_error_log(output_dir: str | None, exc: BaseException) -> str | None:
    """Write `exc`'s traceback to `{output_dir}/error.log`; the path, or None if it could not be written."""
    if not output_dir:
        return None
    path = io.join(output_dir, ERROR_LOG)
    text = f"{datetime.now(UTC).isoformat()} unexpected failure\n" + "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        io.write_text_atomic(path, text)
    except Exception:  # the log is best effort; the summary still says what happened
        return None
    return path
