"""The portal's catalogue: complete in both languages, and the language chosen per request."""

from __future__ import annotations

import re
import string

import pytest

from prepaidgrid.entrypoints.portal.i18n import (
    LANGUAGES,
    MESSAGES,
    negotiate_language,
    translator,
)

DEVANAGARI = re.compile("[\u0900-\u097f]")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_english_and_hindi_text(key: str) -> None:
    english, hindi = MESSAGES[key]

    assert english.strip()
    assert hindi.strip()
    assert DEVANAGARI.search(hindi), f"{key}: Hindi text has no Devanagari"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_both_languages_use_the_same_placeholders(key: str) -> None:
    english, hindi = MESSAGES[key]

    assert placeholders(english) == placeholders(hindi)


def test_the_required_groups_of_keys_are_present() -> None:
    required = {
        "nav.home",
        "nav.audit",
        "login.code_sent",
        "login.unknown_mobile",
        "home.days_left",
        "supply.grace",
        "statement.estimated",
        "recharge.status.reversed",
        "recharge.done",
        "officer.search_hint",
        "health.down",
        "errors.csrf",
    }

    assert required <= MESSAGES.keys()


def test_an_unregistered_mobile_gets_the_same_answer_as_a_registered_one() -> None:
    assert MESSAGES["login.unknown_mobile"] == MESSAGES["login.code_sent"]


def test_translator_formats_the_named_params_in_each_language() -> None:
    english, hindi = translator("en"), translator("hi")

    sent_en = english("login.code_sent", mobile="98xxxxxx10", minutes=5)
    sent_hi = hindi("login.code_sent", mobile="98xxxxxx10", minutes=5)

    assert sent_en == "A 6-digit code was sent to 98xxxxxx10. It is valid for 5 minutes."
    assert "98xxxxxx10" in sent_hi
    assert "5 मिनट" in sent_hi


def test_translator_raises_on_an_unknown_key() -> None:
    t = translator("hi")

    with pytest.raises(KeyError):
        t("home.no_such_key")


def test_translator_raises_when_a_placeholder_has_no_value() -> None:
    t = translator("en")

    with pytest.raises(KeyError):
        t("home.days_left")


def test_translator_falls_back_to_english_for_an_unknown_language() -> None:
    assert translator("fr")("nav.home") == MESSAGES["nav.home"][0]
    assert translator("hi")("nav.home") == MESSAGES["nav.home"][1]


def test_languages_are_english_and_hindi() -> None:
    assert LANGUAGES == ("en", "hi")


def test_the_query_wins_over_cookie_and_browser() -> None:
    assert negotiate_language("en", "hi", "hi-IN,hi", default="hi") == "en"


def test_the_cookie_wins_over_the_browser() -> None:
    assert negotiate_language(None, "en", "hi-IN,hi;q=0.9", default="hi") == "en"


def test_unknown_query_and_cookie_values_are_ignored() -> None:
    assert negotiate_language("fr", "en", None) == "en"
    assert negotiate_language("", "xx", "en-US,en;q=0.9", default="hi") == "en"


def test_the_browser_preference_with_the_highest_q_wins() -> None:
    header = "fr-FR,fr;q=0.9,en;q=0.5,hi;q=0.8"

    assert negotiate_language(None, None, header, default="en") == "hi"


def test_a_region_subtag_matches_its_language() -> None:
    assert negotiate_language(None, None, "en-IN", default="hi") == "en"


def test_equal_preferences_go_to_the_first_listed() -> None:
    assert negotiate_language(None, None, "en;q=0.7, hi;q=0.7", default="hi") == "en"


def test_a_refused_or_malformed_preference_does_not_count() -> None:
    assert negotiate_language(None, None, "hi;q=0, en;q=0.1", default="hi") == "en"
    assert negotiate_language(None, None, "en;q=abc", default="hi") == "hi"
    assert negotiate_language(None, None, "en;q=nan, hi;q=0.2", default="en") == "hi"
    assert negotiate_language(None, None, "en;q=2", default="hi") == "hi"


def test_bihari_languages_read_as_hindi() -> None:
    assert negotiate_language(None, None, "bho-IN,en;q=0.5", default="en") == "hi"
    assert negotiate_language(None, None, "mai,en;q=0.5", default="en") == "hi"


def test_the_default_applies_when_nothing_matches() -> None:
    assert negotiate_language(None, None, None) == "hi"
    assert negotiate_language(None, None, "fr, de;q=0.5", default="en") == "en"
    assert negotiate_language(None, None, "*", default="en") == "en"
