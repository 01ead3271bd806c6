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
    # complaints (issue 7)
    "complaints.officer.title": ("Complaints of your divisions", "आपके प्रमंडलों की शिकायतें"),
    "complaints.officer.actions": ("Act on this complaint", "इस शिकायत पर कार्रवाई"),
    "complaints.officer.any": ("Any", "सभी"),
    "complaints.officer.days_left": ("Days left", "बचे दिन"),
    "complaints.officer.none": ("No complaint matches.", "कोई शिकायत नहीं मिली।"),
    "complaints.officer.level": ("Escalation level", "एस्केलेशन स्तर"),
    "complaints.officer.their_words": ("The consumer's words", "उपभोक्ता के शब्द"),
    "complaints.officer.diagnosis": ("Diagnosis", "प्रारंभिक जाँच"),
    "complaints.officer.no_diagnosis": (
        "This complaint was filed before diagnoses were made.",
        "यह शिकायत जाँच की सुविधा से पहले दर्ज हुई थी।",
    ),
    "complaints.officer.as_of": ("As the records stood on {at}.", "{at} को रिकॉर्ड के अनुसार।"),
    "complaints.officer.since": ("since {at}", "{at} से"),
    "complaints.officer.pending": ("{n} command(s) pending", "{n} कमांड लंबित"),
    "complaints.officer.usage": (
        "Daily use beside similar households ({category}, {band}, same division)",
        "समान घरों के साथ दैनिक खपत ({category}, {band}, वही प्रमंडल)",
    ),
    "complaints.officer.usage_total": (
        "Last 30 days: {used} kWh used; similar households' daily medians add up to {similar} kWh.",
        "पिछले 30 दिन: {used} kWh खपत; समान घरों की दैनिक माध्यिका का योग {similar} kWh।",
    ),
    "complaints.officer.used_kwh": ("Used (kWh)", "खपत (kWh)"),
    "complaints.officer.similar_kwh": (
        "Similar median (kWh, households)",
        "समान घरों की माध्यिका (kWh, घर)",
    ),
    "complaints.officer.bars": ("Used (red) and similar (grey)", "खपत (लाल) और समान घर (धूसर)"),
    "complaints.officer.unexplained": (
        "This day cannot be rebuilt from the tariff: check the posting.",
        "इस दिन की गणना टैरिफ से दोबारा नहीं बन सकी: पोस्टिंग जाँचें।",
    ),
    "complaints.officer.contact_changes": ("Contact changes", "संपर्क विवरण में बदलाव"),
    "complaints.officer.no_contact_changes": (
        "No change of mobile or e-mail is recorded.",
        "मोबाइल या ई-मेल का कोई बदलाव दर्ज नहीं है।",
    ),
    "complaints.officer.take_up": ("Take up", "कार्रवाई शुरू करें"),
    "complaints.officer.note": (
        "Note (the consumer gets it by SMS)",
        "टिप्पणी (उपभोक्ता को SMS से भेजी जाएगी)",
    ),
    "complaints.officer.add_note": ("Add note", "टिप्पणी जोड़ें"),
    "complaints.officer.resolution_note": (
        "What was found and done (required)",
        "क्या पाया गया और क्या किया गया (अनिवार्य)",
    ),
    "complaints.officer.resolve": ("Resolve", "समाधान दर्ज करें"),
    "complaints.officer.close_note": (
        "Why close it (required unless resolved)",
        "बंद करने का कारण (समाधान न हुआ हो तो अनिवार्य)",
    ),
    "complaints.officer.close": ("Close", "बंद करें"),
    "complaints.officer.done.take_up": (
        "Taken up; the consumer is told.",
        "कार्रवाई शुरू; उपभोक्ता को सूचना भेजी गई।",
    ),
    "complaints.officer.done.note": (
        "Note added; the consumer is told.",
        "टिप्पणी जुड़ी; उपभोक्ता को सूचना भेजी गई।",
    ),
    "complaints.officer.done.resolve": (
        "Resolved; the consumer is told.",
        "समाधान दर्ज; उपभोक्ता को सूचना भेजी गई।",
    ),
    "complaints.officer.done.close": (
        "Closed; the consumer is told.",
        "बंद; उपभोक्ता को सूचना भेजी गई।",
    ),
}
