"""Logging of the long-running commands (`serve`, `headend`, `notify dispatch`).

`PREPAIDGRID_LOG_LEVEL` (default WARNING) and `PREPAIDGRID_LOG_FORMAT`: `text` (default),
or `json` for one JSON object a line, as a log shipper wants them: time (UTC, ISO 8601),
level, logger, message, process and thread, and the exception's traceback when there is one.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging() -> None:
    level = os.environ.get("PREPAIDGRID_LOG_LEVEL", "WARNING").upper()
    style = os.environ.get("PREPAIDGRID_LOG_FORMAT", "text").lower()
    if style not in ("text", "json"):
        raise SystemExit(f"PREPAIDGRID_LOG_FORMAT must be text or json, not {style!r}")
    handler = logging.StreamHandler()
    if style == "json":
        handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
