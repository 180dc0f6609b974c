"""The patient's language: one translation mechanism for the templates, the server's words and the
ES modules (docs/architecture.md, "Translations").

The catalogs are gettext `.po` files in `webapp/translations/<code>/LC_MESSAGES/messages.po`, read
with Babel when first needed (no compile step, nothing generated is committed). The message id is
the English text; placeholders are `{name}`, the same in Python, templates and JavaScript. The
browser gets the same catalog as JSON from `/i18n/<code>.json` (webapp/static/js/i18n.js).

Only patient-facing words are translated; the clinician's pages stay in English.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache

from markupsafe import Markup, escape

TRANSLATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")


@dataclass(frozen=True)
class Language:
    code: str  # BCP 47, as in <html lang>
    name: str  # in the language itself, as the patient's menu shows it
    english_name: str  # as the clinician's form shows it
    direction: str  # "ltr" or "rtl" (<html dir>)
    latin_script: bool  # whether its readers are expected to read Latin letters (Sloan, HOTV)


# English first: the source language, whose catalog is the message ids themselves.
LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "English", "ltr", True),
    "es": Language("es", "Español", "Spanish", "ltr", True),
    "de": Language("de", "Deutsch", "German", "ltr", True),
    "ar": Language("ar", "العربية", "Arabic", "rtl", False),
}
DEFAULT = "en"


def language(code: str | None) -> Language:
    """The language of this code; English for anything unknown (an old test, a bad value)."""
    return LANGUAGES.get(code or DEFAULT, LANGUAGES[DEFAULT])


def catalog_path(code: str) -> str:
    return os.path.join(TRANSLATIONS_DIR, code, "LC_MESSAGES", "messages.po")


@cache
def catalog(code: str) -> dict[str, str]:
    """{English text: translation} of one language, from its .po file (translated, not fuzzy)."""
    if code == DEFAULT or code not in LANGUAGES:
        return {}
    from babel.messages.pofile import read_po

    with open(catalog_path(code), "rb") as handle:
        po = read_po(handle, locale=code)
    return {m.id: m.string for m in po if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


@cache
def catalog_json(code: str) -> tuple[bytes, str]:
    """The catalog as the browser gets it, and its ETag (a hash of the content)."""
    body = json.dumps(catalog(code), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:16]


def translate(code: str | None, message: str, **params) -> str:
    """`message` (its English text) in the language `code`, with `{name}` placeholders filled in.
    A translation whose placeholders do not match falls back to the English, never an error."""
    text = catalog(language(code).code).get(message, message)
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return message.format(**params)


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is defined; it is translated where it is shown."""
    return message


def translator(code: str | None):
    """`_` for one language: `_ = translator(session.language)`, then `_("Right eye")` (Babel
    extracts the calls to `_`)."""

    def _(message: str, **params) -> str:
        return translate(code, message, **params)

    return _


def template_gettext(message: str, **params) -> Markup:
    """`_()` in templates: the page's language (`page_language`), placeholders filled with escaped
    values (a Markup value, such as an element the sentence wraps, goes in as it is)."""
    text = translate(page_language().code, message)
    template = Markup(escape(text))
    try:
        return template.format(**params) if params else template
    except (KeyError, IndexError, ValueError):
        return Markup(escape(message)).format(**params)


def page_language() -> Language:
    """The language of the page being rendered: the one a patient route set (`use_language`),
    otherwise English (the clinician's pages)."""
    from flask import g, has_request_context

    if not has_request_context():
        return LANGUAGES[DEFAULT]
    return language(g.get("patient_language"))


def browser_language() -> str:
    """The language this request's browser prefers among Visus's (Accept-Language), else English: for
    a patient's page or socket before the test is known (a bad link, a refused connection)."""
    from flask import has_request_context, request

    if not has_request_context():
        return DEFAULT
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def use_language(code: str | None) -> None:
    """A patient route: render this request's templates in this language."""
    from flask import g

    g.patient_language = language(code).code


def init_app(app) -> None:
    app.jinja_env.globals["_"] = template_gettext
    app.jinja_env.globals["page_language"] = page_language
    app.jinja_env.globals["catalog_url"] = catalog_url
    app.jinja_env.globals["patient_languages"] = LANGUAGES


def catalog_url(code: str) -> str:
    """The catalog's address, with its content hash so that it may be cached for long."""
    from flask import url_for

    return url_for("main.catalog", code=code, v=catalog_json(code)[1])


# Optotype sets whose symbols are Latin letters read by name (HOTV is matched, not named, so it stays).
_NAMED_LETTERS = ("sloan",)
LETTERS_FALLBACK_SET = "tumbling_e"


def optotypes_for_language(config: dict, code: str | None) -> dict:
    """The test's configuration for a patient of this language: when the clinician allowed it
    (`letters_fallback`) and the language is not written in Latin letters, Sloan letters become the
    tumbling E, which needs no alphabet (docs/measurement.md §3), and `optotype_set_asked` keeps what the
    clinician chose, for the note in the live view. Otherwise the clinician's choice, unchanged."""
    asked = config.get("optotype_set_asked", config["optotype_set"])
    chosen = dict(config, optotype_set=asked)
    chosen.pop("optotype_set_asked", None)
    if config.get("letters_fallback") and asked in _NAMED_LETTERS and not language(code).latin_script:
        chosen.update(optotype_set=LETTERS_FALLBACK_SET, optotype_set_asked=asked)
    return chosen
