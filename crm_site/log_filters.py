"""Logging filters for the project's ``LOGGING`` setting."""

from __future__ import annotations

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """Log a 403 as one line: a refused request is expected behaviour, not a crash with a traceback.

    Django's request handler logs ``PermissionDenied`` with the exception attached, so every forbidden
    page would otherwise print a full traceback into the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
