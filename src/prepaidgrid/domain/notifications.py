"""Consumer messages in Hindi and English, queued in the outbox with the change behind them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import IST


class Template(StrEnum):
    ZERO_BALANCE = "zero_balance"  # with the exact day and window of the coming cut
    RECHARGE_RECEIVED = "recharge_received"
    DISCONNECTED = "disconnected"
    RECONNECTED = "reconnected"
    RECHARGE_REVERSED = "recharge_reversed"
    LOGIN_CODE = "login_code"  # the portal's one-time code: sent at any hour
    COMPLAINT_RECEIVED = "complaint_received"  # with the complaint's number and due day
    # complaints (issue 7)
    COMPLAINT_TAKEN_UP = "complaint_taken_up"  # an officer is working on it
    COMPLAINT_UPDATED = "complaint_updated"  # an officer's note on it
    COMPLAINT_RESOLVED = "complaint_resolved"  # with the resolution and the reopen deadline
    COMPLAINT_CLOSED = "complaint_closed"
    COMPLAINT_REOPENED = "complaint_reopened"  # by the consumer: not fixed after all
    COMPLAINT_ESCALATED = "complaint_escalated"  # overdue: passed to a senior officer
    CHECK_METER_SCHEDULED = "check_meter_scheduled"  # a meter dispute's check meter visit
    CONTACT_CODE = "contact_code"  # to a new mobile or e-mail address, before it is saved
    MOBILE_CHANGED = "mobile_changed"  # to the old mobile, once the new one is saved
    EMAIL_CHANGED = "email_changed"  # to the mobile, once a new e-mail address is saved
    # alerts (issue 7)
    LOW_BALANCE = "low_balance"  # once per recharge cycle, with days left and share of it
    DAILY_SUMMARY = "daily_summary"  # yesterday's use and charge, for those who opted in


TEXTS: Mapping[Template, Mapping[str, str]] = {
    Template.ZERO_BALANCE: {
        "en": "Your electricity balance for account {account_id} is {balance}. Please "
        "recharge: otherwise supply will be disconnected on {cut_day} from {cut_time} "
        "(cuts happen only {window}). A recharge restores supply at once.",
        "hi": "खाता {account_id} का बिजली बैलेंस {balance} है। कृपया रिचार्ज करें, अन्यथा "
        "{cut_day} को {cut_time} बजे से बिजली आपूर्ति काट दी जाएगी (कटौती केवल {window} के "
        "बीच होती है)। रिचार्ज करते ही आपूर्ति तुरंत बहाल हो जाती है।",
    },
    Template.RECHARGE_RECEIVED: {
        "en": "Recharge of {amount} received for account {account_id}. Balance: {balance}.",
        "hi": "खाता {account_id} के लिए {amount} का रिचार्ज प्राप्त हुआ। बैलेंस: {balance}।",
    },
    Template.DISCONNECTED: {
        "en": "Supply to account {account_id} has been disconnected for a balance of "
        "{balance}. Recharge to restore it at once.",
        "hi": "खाता {account_id} की बिजली आपूर्ति {balance} बैलेंस के कारण काट दी गई है। "
        "रिचार्ज करते ही आपूर्ति तुरंत बहाल हो जाएगी।",
    },
    Template.RECONNECTED: {
        "en": "Supply to account {account_id} has been restored. Balance: {balance}.",
        "hi": "खाता {account_id} की बिजली आपूर्ति बहाल कर दी गई है। बैलेंस: {balance}।",
    },
    Template.RECHARGE_REVERSED: {
        "en": "The payment of {amount} for account {account_id} was reversed by the bank. "
        "Balance: {balance}.",
        "hi": "खाता {account_id} के {amount} के भुगतान को बैंक ने वापस कर दिया है। बैलेंस: {balance}।",
    },
    Template.LOGIN_CODE: {
        "en": "{code} is your prepaidgrid login code, valid for {minutes} minutes. Do not "
        "share it with anyone: our staff never ask for it.",
        "hi": "{code} आपका prepaidgrid लॉगिन कोड है, {minutes} मिनट तक मान्य। इसे किसी को न "
        "बताएं: हमारे कर्मचारी यह कोड कभी नहीं मांगते।",
    },
    Template.COMPLAINT_RECEIVED: {
        "en": "Your complaint {number} for account {account_id} is registered. It will be "
        "resolved by {due_day}. You can follow it on the portal.",
        "hi": "खाता {account_id} के लिए आपकी शिकायत {number} दर्ज कर ली गई है। इसका समाधान "
        "{due_day} तक किया जाएगा। आप पोर्टल पर इसकी स्थिति देख सकते हैं।",
    },
    # complaints (issue 7)
    Template.COMPLAINT_TAKEN_UP: {
        "en": "Your complaint {number} for account {account_id} is being worked on by our "
        "staff. It will be resolved by {due_day}.",
        "hi": "खाता {account_id} की आपकी शिकायत {number} पर हमारे कर्मचारी काम कर रहे हैं। "
        "इसका समाधान {due_day} तक किया जाएगा।",
    },
    Template.COMPLAINT_UPDATED: {
        "en": "Update on your complaint {number} for account {account_id}: {note}",
        "hi": "खाता {account_id} की आपकी शिकायत {number} पर नई जानकारी: {note}",
    },
    Template.COMPLAINT_RESOLVED: {
        "en": "Your complaint {number} for account {account_id} is resolved: {note}. If the "
        "problem remains, reopen it on the portal by {reopen_by}.",
        "hi": "खाता {account_id} की आपकी शिकायत {number} का समाधान हो गया है: {note}। अगर "
        "समस्या बनी रहे, तो {reopen_by} तक पोर्टल पर इसे फिर से खोलें।",
    },
    Template.COMPLAINT_CLOSED: {
        "en": "Your complaint {number} for account {account_id} is closed.",
        "hi": "खाता {account_id} की आपकी शिकायत {number} बंद कर दी गई है।",
    },
    Template.COMPLAINT_REOPENED: {
        "en": "Your complaint {number} for account {account_id} is reopened. It will be "
        "resolved by {due_day}.",
        "hi": "खाता {account_id} की आपकी शिकायत {number} फिर से खोली गई है। इसका समाधान "
        "{due_day} तक किया जाएगा।",
    },
    Template.COMPLAINT_ESCALATED: {
        "en": "Your complaint {number} for account {account_id} was not resolved by "
        "{due_day}. It has been passed to a senior officer.",
        "hi": "खाता {account_id} की आपकी शिकायत {number} का समाधान {due_day} तक नहीं हुआ। इसे "
        "वरिष्ठ अधिकारी को भेजा गया है।",
    },
    Template.CHECK_METER_SCHEDULED: {
        "en": "For your complaint {number} about account {account_id}, our staff will fit a "
        "check meter beside your meter on {visit_day}. Please be at home that day.",
        "hi": "खाता {account_id} की आपकी शिकायत {number} के लिए हमारे कर्मचारी {visit_day} को "
        "आपके मीटर के साथ एक जाँच मीटर लगाएँगे। कृपया उस दिन घर पर रहें।",
    },
    Template.CONTACT_CODE: {
        "en": "{code} is your code to confirm the new contact details of electricity account "
        "{account_id}, valid for {minutes} minutes. If you did not ask for it, ignore this "
        "message; never share the code.",
        "hi": "{code} बिजली खाता {account_id} के नए संपर्क विवरण की पुष्टि का कोड है, {minutes} "
        "मिनट तक मान्य। अगर आपने यह नहीं माँगा है, तो इस संदेश को अनदेखा करें; कोड किसी को न "
        "बताएं।",
    },
    Template.MOBILE_CHANGED: {
        "en": "The mobile number of electricity account {account_id} was changed to {mobile} "
        "on {when}. If you did not do this, call the helpline 1912 at once.",
        "hi": "बिजली खाता {account_id} का मोबाइल नंबर {when} को बदलकर {mobile} कर दिया गया है। "
        "अगर यह बदलाव आपने नहीं किया है, तो तुरंत हेल्पलाइन 1912 पर कॉल करें।",
    },
    Template.EMAIL_CHANGED: {
        "en": "The e-mail address of electricity account {account_id} was changed on {when}. "
        "If you did not do this, call the helpline 1912 at once.",
        "hi": "बिजली खाता {account_id} का ई-मेल पता {when} को बदल दिया गया है। अगर यह बदलाव "
        "आपने नहीं किया है, तो तुरंत हेल्पलाइन 1912 पर कॉल करें।",
    },
    # alerts (issue 7)
    Template.LOW_BALANCE: {
        "en": "Low balance: account {account_id} has {balance} left, {share}% of your last "
        "recharge of {recharge}. At your recent use that lasts about {days} days. Please "
        "recharge in time.",
        "hi": "कम बैलेंस: खाता {account_id} में {balance} बचे हैं, जो आपके पिछले {recharge} के "
        "रिचार्ज का {share}% है। हाल की खपत पर यह लगभग {days} दिन चलेगा। कृपया समय पर रिचार्ज करें।",
    },
    Template.DAILY_SUMMARY: {
        "en": "Account {account_id} on {day}: {units} units used, {charge} charged. Balance: "
        "{balance}, about {days} days at your recent use.",
        "hi": "खाता {account_id}, {day}: {units} यूनिट की खपत, {charge} की कटौती। बैलेंस: "
        "{balance}, हाल की खपत पर लगभग {days} दिन।",
    },
}

# The subject line of a template sent by e-mail (issue 7 delivers e-mail).
SUBJECTS: Mapping[Template, Mapping[str, str]] = {
    Template.CONTACT_CODE: {
        "en": "Your code to confirm your e-mail address",
        "hi": "आपके ई-मेल पते की पुष्टि का कोड",
    },
    # alerts (issue 7)
    Template.LOW_BALANCE: {"en": "Low electricity balance", "hi": "बिजली बैलेंस कम है"},
    Template.DAILY_SUMMARY: {"en": "Your daily electricity use", "hi": "आपकी दैनिक बिजली खपत"},
}


@dataclass(frozen=True, slots=True)
class Message:
    template: Template
    language: str  # "hi" or "en"
    params: Mapping[str, str]

    def render(self) -> str:
        texts = TEXTS[self.template]
        return texts.get(self.language, texts["en"]).format(**self.params)

    def subject(self) -> str:
        subjects = SUBJECTS.get(self.template, {})
        return subjects.get(self.language, subjects.get("en", "prepaidgrid"))


# -- how a consumer is reached, and what they want to hear (issue 6/7) --------------------------


class ContactKind(StrEnum):
    MOBILE = "mobile"
    EMAIL = "email"


MAX_EMAIL_CHARS = 200  # accounts.email
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"  # one part of a domain name
_EMAIL = re.compile(rf"[A-Za-z0-9._%+'-]+@{_LABEL}(?:\.{_LABEL})+")


def require_email(text: str) -> str:
    """An e-mail address as typed, its domain in lower case (domains ignore case)."""
    address = text.strip()
    if len(address) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(address) or ".." in address:
        raise InvalidInput("enter an e-mail address such as name@example.com")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


DEFAULT_LOW_BALANCE_PAISE = 10_000  # ₹100
MAX_LOW_BALANCE_PAISE = 10_000_000  # ₹1,00,000
DEFAULT_QUIET_FROM = time(22, 0)
DEFAULT_QUIET_UNTIL = time(7, 0)


@dataclass(frozen=True, slots=True)
class AlertPreferences:
    """What a consumer wants to hear about one account, and when (an account without
    stored preferences has these defaults).

    The cut warning (ZERO_BALANCE) ignores all of it: it always goes by SMS, at any hour,
    because supply must never be cut without one. Quiet hours are IST wall-clock times and
    may run past midnight (22:00-07:00).
    """

    is_daily_summary_on: bool = False
    is_low_balance_on: bool = True
    low_balance_paise: int = DEFAULT_LOW_BALANCE_PAISE
    is_sms_on: bool = True
    is_email_on: bool = False  # only with an e-mail address registered
    quiet_from: time = DEFAULT_QUIET_FROM
    quiet_until: time = DEFAULT_QUIET_UNTIL

    def __post_init__(self) -> None:
        if not 0 < self.low_balance_paise <= MAX_LOW_BALANCE_PAISE:
            raise InvalidInput("the low-balance threshold is between ₹1 and ₹1,00,000")
        for at in (self.quiet_from, self.quiet_until):
            if at.tzinfo is not None or at.second or at.microsecond:
                raise InvalidInput("quiet hours are IST times in hours and minutes")
        if self.quiet_from == self.quiet_until:
            raise InvalidInput("quiet hours must end at a different time than they start")

    def is_quiet_at(self, at: datetime) -> bool:
        """Whether the instant falls in the quiet hours (start included, end excluded)."""
        local = at.astimezone(IST).time().replace(tzinfo=None)
        if self.quiet_from < self.quiet_until:
            return self.quiet_from <= local < self.quiet_until
        return local >= self.quiet_from or local < self.quiet_until
