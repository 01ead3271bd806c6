"""Messages of the consumer's inbox page, key -> (English, Hindi); merged into i18n.MESSAGES."""

from __future__ import annotations

from typing import Final

INBOX_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "nav.inbox": ("Messages", "संदेश"),
    "inbox.title": ("Messages sent to you", "आपको भेजे गए संदेश"),
    "inbox.about": (
        "Every SMS and e-mail about this account, newest first (the last {shown}). "
        "Login and confirmation codes are never shown here.",
        "इस खाते के बारे में भेजे गए सभी SMS और ई-मेल, सबसे नए पहले (अंतिम {shown})। लॉगिन और "
        "पुष्टि कोड यहाँ कभी नहीं दिखाए जाते।",
    ),
    "inbox.empty": ("No messages yet.", "अभी कोई संदेश नहीं है।"),
    "inbox.kind.zero_balance": (
        "Balance used up: supply cut warning",
        "बैलेंस समाप्त: कटौती की चेतावनी",
    ),
    "inbox.kind.low_balance": ("Low balance", "कम बैलेंस"),
    "inbox.kind.daily_summary": ("Daily summary", "दैनिक सारांश"),
    "inbox.kind.recharge_received": ("Recharge received", "रिचार्ज प्राप्त"),
    "inbox.kind.recharge_reversed": ("Payment reversed", "भुगतान वापस"),
    "inbox.kind.disconnected": ("Supply disconnected", "आपूर्ति काटी गई"),
    "inbox.kind.reconnected": ("Supply restored", "आपूर्ति बहाल"),
    "inbox.kind.other": ("Message", "संदेश"),
}
