"""The default SMS "gateway": one JSON line per SMS appended to a file, and/or printed, for
the demo, a laptop, and a site whose gateway is not configured yet."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import TextIO

from prepaidgrid.services.ports import SendFailed, Sms


class FileSmsSink:
    def __init__(self, path: Path | None, console: TextIO | None = None) -> None:
        self._path, self._console = path, console
        self._lock = threading.Lock()

    def send_sms(self, sms: Sms) -> str:
        line = json.dumps(
            {
                "mobile": sms.mobile,
                "template": sms.template,
                "language": sms.language,
                "text": sms.text,
                "key": sms.idempotency_key,
            },
            ensure_ascii=False,
        )
        with self._lock:
            if self._path is not None:
                try:
                    with self._path.open("a", encoding="utf-8") as out:
                        out.write(line + "\n")
                except OSError as error:  # a full disk is worth a retry and an alarm
                    raise SendFailed(f"cannot append to {self._path}: {error}") from error
            if self._console is not None:
                print(line, file=self._console, flush=True)
        return f"file:{sms.idempotency_key}"


def console_sink() -> FileSmsSink:
    return FileSmsSink(None, sys.stdout)
