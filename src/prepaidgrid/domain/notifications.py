"""Consumer messages in Hindi and English, queued in the outbox with the change behind them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Template(StrEnum):
    ZERO_BALANCE = "zero_balance"  # with the exact day and window of the coming cut
    RECHARGE_RECEIVED = "recharge_received"
    DISCONNECTED = "disconnected"
    RECONNECTED = "reconnected"
    RECHARGE_REVERSED = "recharge_reversed"
    LOGIN_CODE = "login_code"  # the portal's one-time code: sent at any hour


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
}


@dataclass(frozen=True, slots=True)
class Message:
    template: Template
    language: str  # "hi" or "en"
    params: Mapping[str, str]

    def render(self) -> str:
        texts = TEXTS[self.template]
        return texts.get(self.language, texts["en"]).format(**self.params)
