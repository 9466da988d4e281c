"""The console in Dutch and English: a complete catalogue, and a choice each user keeps."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from sqlalchemy import select

from console_client import make_user, post_form, sign_in
from samen.console.i18n import DUTCH, STATE_NAMES, translate
from samen.console.queries import REVIEW_STATES
from samen.models import User

PACKAGE = Path(__file__).resolve().parents[1] / "server" / "samen"
# _("…") or _('…') in templates and console modules; adjacent Python literals are joined first.
_CALL = re.compile(r"""\b_\(\s*((?:"(?:[^"\\]|\\.)*"\s*|'(?:[^'\\]|\\.)*'\s*)+)""")
_LITERAL = re.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'""")


def console_texts() -> set[str]:
    sources = [*(PACKAGE / "templates" / "console").glob("*.html"),
               *(path for path in (PACKAGE / "console").glob("*.py") if path.name != "i18n.py")]
    texts = set()
    for source in sources:
        for call in _CALL.finditer(source.read_text(encoding="utf-8")):
            parts = _LITERAL.findall(call.group(1))
            texts.add("".join(double or single for double, single in parts).replace("\\'", "'").replace('\\"', '"'))
    return texts


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_console_text_has_a_dutch_translation_with_the_same_placeholders():
    texts = console_texts()
    assert len(texts) > 100  # the scan found the console's texts
    missing = sorted(texts - DUTCH.keys())
    assert not missing, f"add these to samen/console/i18n.py DUTCH: {missing}"
    for english, dutch in DUTCH.items():
        assert fields(english) == fields(dutch), english
    unused = sorted(DUTCH.keys() - texts)
    assert not unused, f"no longer used, remove from DUTCH: {unused}"


def test_review_and_form_states_have_names_in_both_languages():
    for locale in ("nl", "en"):
        assert set(STATE_NAMES[locale]) == {*REVIEW_STATES, "open", "closing", "closed"}
    assert translate("nl", "hasIssues") == "Heeft problemen" and translate("en", "hasIssues") == "Has issues"
    assert translate("nl", "{count} forms", count=3) == "3 formulieren"


@pytest.fixture
def client(app):
    return app.test_client()


def test_a_user_switches_language_and_keeps_it_the_next_time(app, client, services):
    make_user(services, "coordinator@example.org", admin=True, locale="nl")
    sign_in(client, "coordinator@example.org")
    assert "<h1>Projecten</h1>" in client.get("/").get_data(as_text=True)
    switched = post_form(client, "/locale", {"locale": "en", "next": "/"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "<h1>Projects</h1>" in page and '<html lang="en">' in page
    with services.database.session() as session:
        assert session.scalar(select(User.locale).where(User.email == "coordinator@example.org")) == "en"
    later = app.test_client()
    sign_in(later, "coordinator@example.org")
    assert "<h1>Projects</h1>" in later.get("/").get_data(as_text=True)


def test_before_signing_in_the_browser_language_decides_and_unknown_locales_are_ignored(client):
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert "Inloggen" in client.get("/login", headers={"Accept-Language": "nl-NL"}).get_data(as_text=True)
    post_form(client, "/locale", {"locale": "xx"}, from_page="/login")
    assert "Inloggen" in client.get("/login").get_data(as_text=True)  # Dutch is the default
