"""Messages of the consumer-care pages (complaints, alert preferences, contact details),
key -> (English, Hindi); merged into i18n.MESSAGES."""

from __future__ import annotations

from typing import Final

CARE_MESSAGES: Final[dict[str, tuple[str, str]]] = {}
