"""The portal's page skeleton: banner, CSRF header, language, and only self-hosted assets."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

import prepaidgrid.entrypoints.portal as portal
from prepaidgrid.entrypoints.portal.i18n import LANGUAGES, translator

PORTAL = Path(portal.__file__).parent
STATIC = PORTAL / "static"


@dataclass(frozen=True)
class User:
    display_name: str
    kind: str


class Page(HTMLParser):
    """The rendered page's elements as (tag, attributes), attribute values HTML-unescaped."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def first(self, tag: str) -> dict[str, str | None]:
        return next(attrs for name, attrs in self.elements if name == tag)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]


def fake_t(key: str, /, **params: object) -> str:
    return f"[{key}{sorted(params.items()) if params else ''}]"


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(PORTAL / "templates"),
        autoescape=select_autoescape(["html"]),
    )


def render(template: str = "base.html", **context: Any) -> str:
    page = {
        "lang": "hi",
        "t": fake_t,
        "csrf_token": "tok-123",
        "user": None,
        "health_banner": None,
        "nav": [],
        "request_path": "/portal/statement",
    }
    page.update(context)
    return environment().get_template(template).render(page)


def render_macro(call: str) -> str:
    source = '{% from "_macros.html" import field, kpi, csrf_field %}{{ ' + call + " }}"
    return environment().from_string(source).render()


def test_no_banner_while_everything_is_up() -> None:
    html = render(health_banner=None)

    assert 'class="banner"' not in html
    assert 'role="alert"' not in html


def test_the_banner_is_an_alert_at_the_top_when_something_is_down() -> None:
    html = render(health_banner="Payment gateway is down since 10:05 <b>")

    banner = Page(html).first("div")
    assert banner == {"class": "banner", "role": "alert"}
    assert "Payment gateway is down since 10:05 &lt;b&gt;" in html


def test_hx_headers_carry_the_csrf_token() -> None:
    body = Page(render(csrf_token="tok-123")).first("body")

    assert json.loads(body["hx-headers"] or "") == {"X-CSRF-Token": "tok-123"}


@pytest.mark.parametrize("token", ["a'b\"c<d>&e", "</body><script>x()</script>", "'}"])
def test_a_hostile_csrf_token_stays_inside_the_attribute_as_valid_json(token: str) -> None:
    html = render(csrf_token=token)

    body = Page(html).first("body")
    assert json.loads(body["hx-headers"] or "") == {"X-CSRF-Token": token}
    assert "<script>x()" not in html


def test_the_page_declares_its_language() -> None:
    assert Page(render(lang="en")).first("html")["lang"] == "en"
    assert Page(render(lang="hi")).first("html")["lang"] == "hi"


def test_the_language_link_keeps_the_path() -> None:
    hrefs = [a["href"] for a in Page(render(lang="hi", request_path="/portal/statement")).all("a")]

    assert "/portal/statement?lang=en" in hrefs


@pytest.mark.parametrize("path", ["//evil.example/x", "/\\evil.example", "", "javascript:x"])
def test_the_language_link_never_leaves_the_site(path: str) -> None:
    hrefs = [a["href"] for a in Page(render(lang="en", request_path=path)).all("a")]

    assert "/portal/?lang=hi" in hrefs
    assert not any("evil" in (href or "") or "javascript" in (href or "") for href in hrefs)


def test_static_assets_come_from_the_portal_itself() -> None:
    page = Page(render())

    stylesheets = [link["href"] for link in page.all("link") if link.get("rel") == "stylesheet"]
    scripts = [script["src"] for script in page.all("script")]
    assert stylesheets == ["/portal/static/portal.css", "/portal/static/uplot.min.css"]
    assert scripts == [
        "/portal/static/htmx.min.js",
        "/portal/static/uplot.iife.min.js",
        "/portal/static/charts.js",
    ]
    assert all("defer" in script for script in page.all("script"))
    for url in [*stylesheets, *scripts]:
        assert (STATIC / (url or "").removeprefix("/portal/static/")).is_file(), url


def test_no_page_loads_anything_from_another_host() -> None:
    html = render(user=User("Sita Devi", "consumer"), health_banner="down", nav=[("/a", "A")])

    assert not re.search(r"https?://", html)


def test_a_signed_in_user_gets_a_logout_form_with_the_csrf_field() -> None:
    page = Page(render(user=User("Sita Devi", "consumer"), csrf_token="tok-9"))

    form = page.first("form")
    assert (form["method"], form["action"]) == ("post", "/portal/logout")
    assert {"type": "hidden", "name": "csrf_token", "value": "tok-9"} in page.all("input")


def test_a_visitor_gets_no_logout_form() -> None:
    assert Page(render(user=None)).all("form") == []


def test_the_current_page_is_marked_in_the_nav() -> None:
    nav = [("/portal/", "Home"), ("/portal/statement", "Statement")]

    links = Page(render(nav=nav, request_path="/portal/statement")).all("a")

    current = [a["href"] for a in links if a.get("aria-current") == "page"]
    assert current == ["/portal/statement"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_real_catalogue_has_every_key_the_skeleton_uses(lang: str) -> None:
    html = render(lang=lang, t=translator(lang), user=User("Ram", "officer"), nav=[("/a", "A")])

    assert "[" not in html  # no fake_t output left


def test_a_child_page_fills_the_blocks() -> None:
    child = environment().from_string(
        '{% extends "base.html" %}{% block title %}Statement{% endblock %}'
        "{% block content %}<p>hello {{ name }}</p>{% endblock %}"
    )

    html = child.render(
        lang="en",
        t=translator("en"),
        csrf_token="x",
        user=None,
        health_banner=None,
        nav=[],
        request_path="/portal/",
        name="<i>",
    )

    assert "<title>Statement</title>" in html
    assert '<main id="main">\n<p>hello &lt;i&gt;</p>' in html


def test_field_renders_a_labelled_input_with_its_error() -> None:
    html = render_macro(
        'field("mobile", "Mobile", type="tel", value="9\\"<", error="Bad", '
        "attrs='inputmode=\"numeric\" required')"
    )

    page = Page(html)
    assert page.first("label") == {"for": "f-mobile"}
    assert page.first("input") == {
        "id": "f-mobile",
        "name": "mobile",
        "type": "tel",
        "value": '9"<',
        "aria-invalid": "true",
        "aria-describedby": "f-mobile-error",
        "inputmode": "numeric",
        "required": None,
    }
    assert page.first("p") == {"class": "error", "id": "f-mobile-error"}


def test_field_escapes_attributes_given_as_a_mapping() -> None:
    html = render_macro('field("q", "Q", attrs={"placeholder": \'"><script>\'})')

    assert Page(html).first("input")["placeholder"] == '"><script>'
    assert "<script>" not in html


def test_field_never_echoes_a_password() -> None:
    html = render_macro('field("password", "Password", type="password", value="s3cret")')

    assert "s3cret" not in html


def test_kpi_and_csrf_field() -> None:
    html = render_macro('kpi("₹1,234.00", "Balance") ~ csrf_field("t<k")')

    page = Page(html)
    assert page.first("div") == {"class": "kpi"}
    assert {"type": "hidden", "name": "csrf_token", "value": "t<k"} in page.all("input")


def test_the_stylesheet_stays_small() -> None:
    assert (STATIC / "portal.css").stat().st_size < 8 * 1024
