"""Messages of the officers' report page, key -> (English, Hindi); merged into i18n.MESSAGES."""

from __future__ import annotations

from typing import Final

REPORT_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "nav.reports": ("Reports", "रिपोर्ट"),
    "reports.title": ("Division report", "प्रमंडल रिपोर्ट"),
    "reports.month": ("Month", "महीना"),
    "reports.show": ("Show", "दिखाएँ"),
    "reports.download": ("Download", "डाउनलोड करें"),
    "reports.collections_chart": (
        "Daily collections in the month (₹)",
        "महीने में दैनिक संग्रह (₹)",
    ),
    "reports.rupees": ("Rupees", "रुपये"),
    "reports.table": ("The figures as a table", "आँकड़े तालिका में"),
    "reports.day": ("Day", "दिन"),
    "reports.collected": ("Collected", "संग्रह"),
    "reports.bad_month": (
        "Choose a month as YYYY-MM, e.g. 2021-09.",
        "महीना YYYY-MM रूप में चुनें, जैसे 2021-09।",
    ),
    "reports.nothing": (
        "There are no divisions to report on yet.",
        "अभी रिपोर्ट के लिए कोई प्रमंडल नहीं है।",
    ),
    "reports.not_for_cashiers": (
        "Reports are for division officers, auditors and administrators.",
        "रिपोर्ट प्रमंडल अधिकारियों, लेखा परीक्षकों और प्रशासकों के लिए हैं।",
    ),
    "reports.other": ("Other reports", "अन्य रिपोर्ट"),
    "reports.collections": ("Daily collections by channel", "चैनलवार दैनिक संग्रह"),
    "reports.ageing": ("Negative balances by age", "शून्य से कम बैलेंस की अवधि"),
    "reports.rollout": ("Smart meter rollout", "स्मार्ट मीटर प्रगति"),
    "reports.definitions": ("Definitions", "परिभाषाएँ"),
    "reports.def_cut": (
        "Connections cut: distinct connections whose meter confirmed a cut in the month.",
        "कटे कनेक्शन: महीने में जिन कनेक्शनों के मीटर ने कटौती की पुष्टि की (हर कनेक्शन एक बार)।",
    ),
    "reports.def_revenue": (
        "Revenue after a cut: recharges credited in the month while the connection stood cut "
        "(cut sent or confirmed); reversed payments are left out.",
        "कटौती के बाद राजस्व: महीने में जमा हुए वे रिचार्ज जो कनेक्शन कटे रहते समय आए "
        "(कटौती का आदेश भेजा गया या पुष्टि हुई); वापस किए गए भुगतान शामिल नहीं।",
    ),
    "reports.def_meters": (
        "Smart meters installed: meters in service at the month's end.",
        "लगे स्मार्ट मीटर: महीने के अंत में चालू मीटर।",
    ),
}
