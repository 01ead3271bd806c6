"""Messages of the officers' pages, key -> (English, Hindi); merged into i18n.MESSAGES."""

from __future__ import annotations

from typing import Final

OFFICER_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "officer.payments": ("Payments", "भुगतान"),
    "officer.no_payments": ("No payments yet today.", "आज अभी तक कोई भुगतान नहीं।"),
    "officer.actions": ("Act on this account", "इस खाते पर कार्रवाई"),
    "officer.memo": ("Details", "विवरण"),
    "officer.stage": ("Stage", "चरण"),
    "officer.source": ("Recorded by", "कहाँ दर्ज"),
    "officer.stuck": (
        "Stuck after '{stage}', waiting for {waiting} since {since}.",
        "'{stage}' के बाद रुका है: {since} से {waiting} का इंतज़ार।",
    ),
    "officer.attempts": ("Attempts", "प्रयास"),
    "officer.finished": ("Finished", "पूरा हुआ"),
    "officer.outbox": ("Waiting to be sent", "भेजे जाने की प्रतीक्षा में"),
    "officer.oldest_waiting": ("Oldest waiting since", "सबसे पुराना संदेश कब से रुका है"),
}
