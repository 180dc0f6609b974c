"""The patient's words, extracted with Babel from the templates, the Python code and the ES modules
of webapp/, and the catalogs brought up to date with them (docs/architecture.md, "Translations").

    python -m devtools.translations          # add new messages to every catalog, drop unused ones
    python -m devtools.translations --check  # list what is missing or untranslated (exit 1 if any)

A message is a call of `_("...")` (templates, Python), `N_("...")` (Python: marked here, translated
where it is shown) or `t("...")` (ES modules) with a plain string literal; the English text is its id.
"""

from __future__ import annotations

import os
import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from webapp.i18n import LANGUAGES, catalog_path

WEBAPP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "webapp")
# (files, how to read them, the functions that mark a message)
SOURCES = [
    ([("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")], DEFAULT_KEYWORDS),
    ([("static/js/vendor/**", "ignore"), ("static/js/**.js", "javascript")], {"t": None}),
]


def extract() -> dict[str, list[str]]:
    """{English text: ["path:line", ...]} of every patient-facing message in webapp/."""
    found: dict[str, list[str]] = {}
    for methods, keywords in SOURCES:
        for path, line, message, _comments, _context in extract_from_dir(WEBAPP, methods, keywords=keywords):
            if isinstance(message, str) and message:
                found.setdefault(message, []).append(f"webapp/{path}:{line}")
    return found


def read(code: str) -> Catalog:
    with open(catalog_path(code), "rb") as handle:
        return read_po(handle, locale=code)


def problems(code: str, messages: dict[str, list[str]] | None = None) -> list[str]:
    """What the catalog of `code` lacks: each message missing, untranslated or fuzzy, with where it is."""
    messages = extract() if messages is None else messages
    po = read(code)
    out = []
    for message, places in sorted(messages.items()):
        entry = po.get(message)
        if entry is None:
            out.append(f"{code}: not in the catalog: {message!r} ({places[0]})")
        elif not entry.string or entry.fuzzy:
            out.append(f"{code}: not translated: {message!r} ({places[0]})")
    return out


def update() -> None:
    """Every catalog gets the new messages (untranslated) and loses the ones no longer used."""
    messages = extract()
    for code in LANGUAGES:
        if code == "en":
            continue
        path = catalog_path(code)
        old = read(code) if os.path.exists(path) else Catalog(locale=code)
        new = Catalog(locale=code, project="Visus", fuzzy=False, creation_date=old.creation_date)
        for message, places in sorted(messages.items()):
            entry = old.get(message)
            new.add(
                message,
                entry.string if entry else "",
                locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places[:3]],
            )
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            write_po(handle, new, width=120, sort_output=True, include_lineno=False)


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        found = extract()
        listed = [line for code in LANGUAGES if code != "en" for line in problems(code, found)]
        print("\n".join(listed) or f"{len(found)} messages, every catalog complete")
        sys.exit(1 if listed else 0)
    update()
