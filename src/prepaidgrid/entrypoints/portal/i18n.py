"""The portal's messages in English and Hindi, and the choice of language for a request."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Protocol

from prepaidgrid.entrypoints.portal.messages_care import CARE_MESSAGES
from prepaidgrid.entrypoints.portal.messages_inbox import INBOX_MESSAGES
from prepaidgrid.entrypoints.portal.messages_officer import OFFICER_MESSAGES
from prepaidgrid.entrypoints.portal.messages_reports import REPORT_MESSAGES

LANGUAGES: Final = ("en", "hi")

# Phones in Bihar set to Bhojpuri, Maithili, Magahi or Angika read Hindi more easily than
# English, and the portal has no text in those languages.
_READ_AS_HINDI: Final = frozenset({"bho", "mai", "mag", "anp"})


class Translate(Protocol):
    """`t("key")` or `t("key", name=value)`: the text of `key` in one language."""

    def __call__(self, key: str, /, **params: object) -> str: ...


# key -> (English, Hindi). Placeholders are str.format names and must be the same in both.
# Money, dates and numbers arrive already formatted (₹1,23,456.78, 12-09-2025): the
# catalogue never formats a value itself.
_CATALOGUE: dict[str, tuple[str, str]] = {
    # Shared page furniture.
    "app.name": ("Prepaid electricity", "प्रीपेड बिजली"),
    "common.skip": ("Skip to content", "मुख्य भाग पर जाएँ"),
    "common.menu": ("Menu", "मेन्यू"),
    "common.language": ("Language", "भाषा"),
    "common.signed_in_as": ("Signed in as {name}", "{name} के रूप में लॉग इन"),
    "common.loading": ("Loading…", "लोड हो रहा है…"),
    # Navigation.
    "nav.home": ("Home", "होम"),
    "nav.statement": ("Statement", "खाता विवरण"),
    "nav.recharge": ("Recharge", "रिचार्ज"),
    "nav.history": ("History", "इतिहास"),
    "nav.complaints": ("Complaints", "शिकायतें"),
    "nav.alerts": ("Alerts", "सूचनाएँ"),
    "nav.profile": ("Profile", "प्रोफ़ाइल"),
    "nav.logout": ("Log out", "लॉग आउट"),
    "nav.login": ("Log in", "लॉग इन"),
    "nav.dashboard": ("Dashboard", "डैशबोर्ड"),
    "nav.search": ("Search", "खोजें"),
    "nav.commands": ("Relay commands", "रिले कमांड"),
    "nav.health": ("System health", "सिस्टम की स्थिति"),
    "nav.audit": ("Audit log", "ऑडिट लॉग"),
    # Log in: consumers by registered mobile + one-time code; officers by password.
    "login.title": ("Log in", "लॉग इन करें"),
    "login.mobile": ("Registered mobile number", "रजिस्टर्ड मोबाइल नंबर"),
    "login.send_code": ("Send code", "ओटीपी भेजें"),
    "login.code": ("6-digit code", "6 अंकों का ओटीपी"),
    "login.verify": ("Verify", "सत्यापित करें"),
    "login.code_sent": (
        "A 6-digit code was sent to {mobile}. It is valid for {minutes} minutes.",
        "{mobile} पर 6 अंकों का ओटीपी भेजा गया है। यह {minutes} मिनट तक मान्य है।",
    ),
    "login.wrong_code": ("Wrong code. {left} tries left.", "ओटीपी गलत है। {left} प्रयास बाकी हैं।"),
    "login.expired_code": (
        "This code has expired. Ask for a new one.",
        "ओटीपी की समय-सीमा खत्म हो गई है। नया ओटीपी मँगाएँ।",
    ),
    "login.locked": (
        "Too many wrong tries. Try again after {minutes} minutes.",
        "कई बार गलत ओटीपी डाला गया। {minutes} मिनट बाद फिर कोशिश करें।",
    ),
    "login.too_many_codes": (
        "Too many codes asked for. Please try again later.",
        "बहुत बार ओटीपी मँगाया गया। कुछ देर बाद फिर कोशिश करें।",
    ),
    # Deliberately the same text as login.code_sent: the answer for an unregistered number
    # must not reveal whether a number is registered (no enumeration of consumers' mobiles).
    "login.unknown_mobile": (
        "A 6-digit code was sent to {mobile}. It is valid for {minutes} minutes.",
        "{mobile} पर 6 अंकों का ओटीपी भेजा गया है। यह {minutes} मिनट तक मान्य है।",
    ),
    "login.officer_title": ("Officer log in", "अधिकारी लॉग इन"),
    "login.username": ("Username", "यूज़रनेम"),
    "login.password": ("Password", "पासवर्ड"),
    "login.wrong_password": ("Wrong username or password.", "यूज़रनेम या पासवर्ड गलत है।"),
    "login.send_again": ("Send a new code", "नया ओटीपी भेजें"),
    # The consumer's home page.
    "home.balance": ("Balance", "बैलेंस"),
    "home.days_left": (
        "About {days} days left at your recent use",
        "हाल की खपत के हिसाब से लगभग {days} दिन का बैलेंस बचा है",
    ),
    "home.days_left_unknown": (
        "Not enough recent use yet to say how many days are left",
        "बैलेंस कितने दिन चलेगा, यह बताने के लिए अभी खपत का पूरा डेटा नहीं है",
    ),
    "home.arrears": ("Arrears", "बकाया"),
    "home.daily_use": ("Daily use", "रोज़ की खपत"),
    "home.last_30_days": ("Last 30 days", "पिछले 30 दिन"),
    "home.last_90_days": ("Last 90 days", "पिछले 90 दिन"),
    "home.kwh": ("kWh", "यूनिट (kWh)"),
    "home.day": ("Day", "दिन"),
    "home.profile_of_day": ("Half-hourly use on {day}", "{day} को हर आधे घंटे की खपत"),
    "home.no_data": ("No readings yet.", "अभी कोई रीडिंग नहीं मिली है।"),
    "home.your_connections": ("Your connections", "आपके बिजली कनेक्शन"),
    "home.days_left_short": ("days left", "दिन बाकी"),
    "home.table": ("Show as a table", "तालिका में देखें"),
    "home.time": ("Time", "समय"),
    # Supply: the states of the supply policy, as the consumer sees them.
    "supply.title": ("Supply", "बिजली सप्लाई"),
    "supply.connected": ("Supply is on.", "बिजली चालू है।"),
    "supply.grace": (
        "Balance is zero: supply will be cut on {day} between {window} unless you recharge.",
        "बैलेंस शून्य है: रिचार्ज नहीं किया तो {day} को {window} के बीच बिजली कट जाएगी।",
    ),
    "supply.disconnect_sent": (
        "Supply is being cut. Recharge to get it back.",
        "बिजली काटी जा रही है। रिचार्ज करने पर बिजली फिर से जुड़ जाएगी।",
    ),
    "supply.disconnected": (
        "Supply is cut. Recharge and it comes back on its own.",
        "बिजली कटी हुई है। रिचार्ज करते ही बिजली अपने-आप जुड़ जाएगी।",
    ),
    "supply.reconnect_sent": (
        "Recharge received: supply is being restored.",
        "रिचार्ज मिल गया: बिजली फिर से जोड़ी जा रही है।",
    ),
    # The statement: each day's charges and how they were worked out.
    "statement.title": ("Statement", "खाता विवरण"),
    "statement.day": ("Date", "तारीख"),
    "statement.units": ("Units (kWh)", "यूनिट (kWh)"),
    "statement.slab": ("Slab", "स्लैब"),
    "statement.rate": ("Rate", "दर"),
    "statement.energy": ("Energy charge", "ऊर्जा शुल्क"),
    "statement.fixed": ("Fixed charge", "स्थायी शुल्क"),
    "statement.duty": ("Electricity duty", "विद्युत शुल्क"),
    "statement.rebate": ("Prepaid rebate", "प्रीपेड छूट"),
    "statement.subsidy": ("State subsidy", "राज्य सरकार अनुदान"),
    "statement.free_units": ("Free units", "मुफ़्त यूनिट"),
    "statement.arrears_instalment": ("Arrears instalment", "बकाया की किस्त"),
    "statement.total": ("Total", "कुल"),
    "statement.estimated": ("Estimated", "अनुमानित"),
    "statement.estimated_note": (
        "No meter reading for this day, so it was billed on an estimate. "
        "It is corrected at month end once the real reading arrives.",
        "इस दिन की मीटर रीडिंग नहीं मिली, इसलिए अनुमान से बिल बना है। "
        "असली रीडिंग आने पर महीने के अंत में हिसाब ठीक कर दिया जाएगा।",
    ),
    "statement.explain": ("See how this was worked out", "हिसाब देखें"),
    # Recharges.
    "recharge.title": ("Recharge", "रिचार्ज करें"),
    "recharge.amount": ("Amount (₹)", "राशि (₹)"),
    "recharge.pay": ("Pay", "भुगतान करें"),
    "recharge.history": ("Recharge history", "पुराने रिचार्ज"),
    "recharge.receipt": ("Receipt", "रसीद"),
    "recharge.channel": ("Paid through", "भुगतान का माध्यम"),
    "recharge.status": ("Status", "स्थिति"),
    "recharge.status.created": ("Started", "शुरू हुआ"),
    "recharge.status.pending": ("Waiting for confirmation", "पुष्टि का इंतज़ार"),
    "recharge.status.paid": ("Paid", "भुगतान हो गया"),
    "recharge.status.failed": ("Failed", "असफल"),
    "recharge.status.credited": ("Added to balance", "बैलेंस में जुड़ गया"),
    "recharge.status.reversed": ("Reversed", "वापस किया गया"),
    "recharge.done": (
        "Recharge of {amount} received. Balance: {balance}.",
        "{amount} का रिचार्ज मिल गया। बैलेंस: {balance}।",
    ),
    # Officers: division dashboard, search, actions, audit.
    "officer.division_dashboard": ("Division dashboard", "प्रमंडल डैशबोर्ड"),
    "officer.meters": ("Meters", "मीटर"),
    "officer.connected": ("Connected", "चालू"),
    "officer.in_grace": ("In grace (balance zero)", "मोहलत में (बैलेंस शून्य)"),
    "officer.disconnect_sent": ("Cut ordered", "काटने का आदेश भेजा गया"),
    "officer.disconnected": ("Disconnected", "कटे हुए"),
    "officer.reconnect_sent": ("Reconnect ordered", "जोड़ने का आदेश भेजा गया"),
    "officer.cuts_due_today": ("Cuts due today", "आज कटने वाले कनेक्शन"),
    "officer.pending_commands": ("Commands awaiting the meter", "मीटर के जवाब के इंतज़ार में कमांड"),
    "officer.collections_today": ("Collections today", "आज की वसूली"),
    "officer.by_channel": ("By payment channel", "भुगतान माध्यम के अनुसार"),
    "officer.search_hint": ("Account, meter, mobile or name", "उपभोक्ता संख्या, मीटर, मोबाइल या नाम"),
    "officer.account": ("Account", "उपभोक्ता संख्या"),
    "officer.meter": ("Meter", "मीटर नंबर"),
    "officer.consumer": ("Consumer", "उपभोक्ता"),
    "officer.division": ("Division", "प्रमंडल"),
    "officer.reason": ("Reason (required)", "कारण (अनिवार्य)"),
    "officer.disconnect": ("Disconnect", "कनेक्शन काटें"),
    "officer.reconnect": ("Reconnect", "कनेक्शन जोड़ें"),
    "officer.adjustment": ("Balance adjustment", "बैलेंस समायोजन"),
    "officer.amount": ("Amount (₹)", "राशि (₹)"),
    "officer.submit": ("Submit", "जमा करें"),
    "officer.done": ("Done.", "हो गया।"),
    "officer.not_found": ("Nothing matches.", "कुछ नहीं मिला।"),
    "officer.forbidden": ("You are not allowed to do this.", "आपको यह करने की अनुमति नहीं है।"),
    "officer.audit_log": ("Audit log", "ऑडिट लॉग"),
    "officer.actor": ("By", "किसने"),
    "officer.action": ("Action", "कार्रवाई"),
    "officer.at": ("When", "कब"),
    # Health of the platform; while anything is down, the supply policy is in safe mode.
    "health.title": ("System health", "सिस्टम की स्थिति"),
    "health.all_ok": ("Everything is working.", "सभी सिस्टम ठीक चल रहे हैं।"),
    "health.down": ("{what} is down since {since}", "{what} {since} से बंद है"),
    "health.failing": ("{what} is failing: {detail}", "{what} में समस्या: {detail}"),
    "health.safe_mode": (
        "Safe mode: no supply is cut until this is fixed.",
        "सुरक्षित मोड: यह ठीक होने तक किसी की बिजली नहीं काटी जाएगी।",
    ),
    # Errors.
    "errors.csrf": (
        "The form expired. Please try again.",
        "फ़ॉर्म की समय-सीमा खत्म हो गई। कृपया फिर से कोशिश करें।",
    ),
    "errors.not_found": ("Page not found.", "पेज नहीं मिला।"),
    "errors.server_error": (
        "Something went wrong on our side. Please try again in a few minutes.",
        "हमारी तरफ़ से कोई गड़बड़ी हुई। कृपया कुछ मिनट बाद फिर कोशिश करें।",
    ),
    "errors.bad_input": ("Please check what you entered.", "कृपया भरी गई जानकारी जाँच लें।"),
}


def _merged(*catalogues: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for catalogue in catalogues:
        twice = merged.keys() & catalogue.keys()
        if twice:
            raise ValueError(f"message keys defined twice: {sorted(twice)}")
        merged.update(catalogue)
    return merged


MESSAGES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    _merged(_CATALOGUE, CARE_MESSAGES, INBOX_MESSAGES, OFFICER_MESSAGES, REPORT_MESSAGES)
)


def translator(lang: str) -> Translate:
    """The catalogue in `lang` (English if the portal has no such language).

    An unknown key, or a placeholder left without a value, raises KeyError: a page test
    then fails, instead of a consumer reading "home.balance" or "{days}".
    """
    column = LANGUAGES.index(lang) if lang in LANGUAGES else 0

    def translate(key: str, /, **params: object) -> str:
        return MESSAGES[key][column].format(**params)

    return translate


def negotiate_language(
    query: str | None,
    cookie: str | None,
    accept_language: str | None,
    default: str = "hi",
) -> str:
    """The page's language: `?lang=` first, then the cookie, then the browser's preference."""
    for chosen in (query, cookie):
        if chosen is not None and (lang := chosen.strip().lower()) in LANGUAGES:
            return lang
    return _best_accepted(accept_language, default) or default


def _best_accepted(header: str | None, default: str) -> str | None:
    """The portal language the Accept-Language header ranks highest (q > 0); ties go first."""
    best, best_q = None, 0.0
    for item in (header or "").split(","):
        tag, _, params = item.partition(";")
        lang = _portal_language(tag.strip().lower(), default)
        q = _quality(params)
        if lang is not None and q > best_q:
            best, best_q = lang, q
    return best


def _portal_language(tag: str, default: str) -> str | None:
    if tag == "*":
        return default if default in LANGUAGES else None
    primary = tag.replace("_", "-").split("-", 1)[0]
    if primary in _READ_AS_HINDI:
        return "hi"
    return primary if primary in LANGUAGES else None


def _quality(params: str) -> float:
    """The q-value of one language range: 1 when absent, 0 when malformed."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0  # also refuses nan and inf
    return 1.0
