"""The patient's language (issue 16): one mechanism (webapp/i18n.py, webapp/static/js/i18n.js), every
patient-facing message in every catalog, no English that bypasses it, the language stored with the
test and switched on the welcome step, the catalog served to the browser, the tumbling E for a
patient who does not read Latin letters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from devtools.translations import extract, problems, read
from tests.support.app import CALIBRATION, browser_for, create_test, display, make_app, watcher
from webapp import i18n
from webapp.live.errors import PATIENT_WORDS

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "webapp" / "templates"
JS = ROOT / "webapp" / "static" / "js"
# The pages a patient sees, and the modules that put words on them (call.js is shared with the
# clinician's live view: its patient side is wrapped, its clinician side stays English).
# The error pages a patient can reach (errors/cross_site.html guards the clinician's audited pages only).
PATIENT_TEMPLATES = sorted(
    [*TEMPLATES.glob("patient/*.html"), TEMPLATES / "errors" / "link.html", TEMPLATES / "errors" / "error.html"],
    key=lambda path: path.name,
)
# The modules of the patient's socket namespace, whose refusals a patient reads (webapp/live/errors.py).
PATIENT_SOCKET_MODULES = [ROOT / "webapp" / "live" / name for name in ("patient.py", "distance_guard.py")]
PATIENT_MODULES = sorted([*JS.glob("patient/*.js"), JS / "answers.js"], key=lambda path: path.name)
TRANSLATED = [code for code in i18n.LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_the_extraction_finds_the_patients_words():
    messages = extract()
    # One from each kind of source: a template, the server's words (Python), an ES module.
    assert "I agree to take this test and to send my answers to my clinician." in messages
    assert "Your screen is big enough for this test." in messages
    assert "Which one do you see?" in messages
    assert len(messages) > 250


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_patient_message_is_in_every_catalog(code):
    """Extracted with Babel from templates, Python and ES modules; each must be translated in each .po
    (python -m devtools.translations adds new ones, untranslated, for a translator to fill in)."""
    assert problems(code) == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders(code):
    for message in read(code):
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(message.id)), message.id


def _raw_template_text(source: str) -> list[str]:
    """English a template writes without `_()`: text between tags and the words of attributes a
    person reads, once Jinja's own parts are taken out."""
    source = re.sub(r"\{#.*?#\}|<!--.*?-->|\{% block body_class %\}.*?\{% endblock %\}", " ", source, flags=re.S)
    found = [
        value
        for _name, value in re.findall(r'\b(aria-label|aria-valuetext|title|placeholder|alt)="([^"{]*)"', source)
        if re.search(r"[A-Za-z]{2,}", value)
    ]
    source = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", source, flags=re.S)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
    for text in re.split(r"<[^>]*>", source):
        text = " ".join(text.split())
        if re.search(r"[A-Za-z]{2,}", text.replace("Visus", "").replace("Ctrl", "")):
            found.append(text)
    return found


@pytest.mark.parametrize("path", PATIENT_TEMPLATES, ids=lambda path: path.name)
def test_no_raw_english_in_a_patient_template(path):
    assert _raw_template_text(path.read_text(encoding="utf-8")) == []


# A string literal in a patient module that reads as words ("two words", "A sentence."), and the
# calls whose arguments are not words for the patient (selectors, media queries, key names, logs,
# errors for developers). A literal joined with `+` to the one before shares its verdict.
_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`(?:[^`\\]|\\.)*`')
_WORDS = re.compile(r"[A-Za-z]{3,}[,.;:!?]? +[A-Za-z]{2,}|[A-Za-z]{2,}[,.;:!?]? +[A-Za-z]{3,}|^[A-Z][a-z]+[.!?…]?$")
_NOT_FOR_PATIENTS = re.compile(
    r"(?:(?:\bt|closest\??\.?|querySelector(?:All)?|matchMedia\??\.?|console\.\w+|Error|matches)\(|key\s*===?)\s*$"
)


def _without_comments(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    lines = []
    for line in source.split("\n"):
        spans = [m.span() for m in _LITERAL.finditer(line)]
        cut = next(
            (i for i in range(len(line) - 1) if line[i : i + 2] == "//" and not any(a <= i < b for a, b in spans)), None
        )
        lines.append(line if cut is None else line[:cut])
    return "\n".join(lines)


def _raw_module_strings(source: str) -> list[str]:
    source = _without_comments(source)
    found = []
    previous_end, previous_raw = 0, False
    for match in _LITERAL.finditer(source):
        joined = previous_end and re.fullmatch(r"\s*\+\s*", source[previous_end : match.start()])
        body = re.sub(r"\$\{[^}]*\}", " ", match.group(0)[1:-1])  # a template literal's expressions are not words
        if joined:
            raw = previous_raw
        else:
            raw = bool(_WORDS.search(body.strip())) and not _NOT_FOR_PATIENTS.search(
                source[max(0, match.start() - 40) : match.start()]
            )
        if raw and _WORDS.search(body.strip()):
            found.append(match.group(0))
        previous_end, previous_raw = match.end(), raw
    return found


@pytest.mark.parametrize("path", PATIENT_MODULES, ids=lambda path: path.name)
def test_no_raw_english_in_a_patient_module(path):
    """Words reach a patient's page only through t(): a literal sentence anywhere else is English
    that no catalog translates."""
    assert _raw_module_strings(path.read_text(encoding="utf-8")) == []


def test_the_checks_catch_raw_english():
    """The two checks above, on a line each that bypasses the mechanism."""
    assert _raw_template_text('<p>{{ _("Welcome") }}</p><p>Please wait</p><b aria-label="Close it"></b>') == [
        "Close it",
        "Please wait",
    ]
    assert _raw_module_strings('setText(node, t("Fine."));\nsetText(node, "Not fine");\n// "a comment"') == [
        '"Not fine"'
    ]
    assert _raw_module_strings("node.textContent = `Eye ${n} of ${count}`;") == ["`Eye ${n} of ${count}`"]


def test_translate_fills_placeholders_and_falls_back_to_english():
    assert i18n.translate("es", "Eye {number} of {count}", number=1, count=2) == "Ojo 1 de 2"
    assert i18n.translate("ar", "Right eye") == "العين اليمنى"
    assert i18n.translate("xx", "Right eye") == "Right eye"  # unknown language: English
    assert i18n.translate("de", "A message no catalog has") == "A message no catalog has"


def test_the_catalog_is_served_to_the_browser(client):
    response = client.get("/i18n/de.json")
    assert response.status_code == 200
    assert response.get_json()["Which one do you see?"] == "Welches sehen Sie?"
    etag = response.headers["ETag"].strip('"')
    # Addressed by its content hash, it may be kept for long; the bare address is checked each time.
    assert client.get(f"/i18n/de.json?v={etag}").headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Cache-Control"] == "no-cache"
    assert client.get("/i18n/de.json", headers={"If-None-Match": f'"{etag}"'}).status_code == 304
    assert client.get("/i18n/xx.json").status_code == 404


def test_the_clinician_chooses_the_language_and_the_patient_switches_it(app, clinician_client):
    _, token = create_test(clinician_client, language="es")
    screen = display(app, token)
    state = screen.last("state")
    assert state["language"] == "es"
    assert state["required_distance_long_text"] == "3 metros"
    # The welcome step: the patient reads Arabic instead; both devices get the new state.
    ack = screen.send("language", {"language": "ar"})
    assert ack == {"ok": True, "language": "ar"}
    state = screen.last("state")
    assert state["language"] == "ar" and state["required_distance_long_text"] == "3 أمتار"
    # A language Visus does not have is refused (the menu offers only its own), in the patient's words.
    refused = screen.send("language", {"language": "fr"})
    assert refused["ok"] is False and refused["error"] == "invalid_payload", refused
    assert refused["message"] == i18n.translate("ar", PATIENT_WORDS["invalid_payload"])
    # After the welcome step the language stays (the test is set up in it).
    assert screen.send("consent")["ok"]
    late = screen.send("language", {"language": "de"})
    assert late["ok"] is False and late["error"] == "wrong_phase", late


def test_the_patient_page_is_in_the_tests_language(app, clinician_client):
    _, token = create_test(clinician_client, language="ar")
    page = browser_for(app, f"/t/{token}").get("/test").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "اختبار النظر الخاص بك" in page and "Your eye test" not in page
    assert 'name="visus-catalog" content="/i18n/ar.json?v=' in page


def test_a_refusal_page_speaks_the_browsers_language(client):
    page = client.get("/t/not-a-real-token", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert page.status_code == 404
    assert "Dieser Link kann nicht benutzt werden" in page.get_data(as_text=True)


def test_the_clinicians_pages_stay_english(clinician_client):
    page = clinician_client.get("/sessions/new", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in page and "visus-catalog" not in page


@pytest.mark.parametrize(
    "language, allowed, asked, shown",
    [
        ("ar", True, "sloan", "tumbling_e"),  # no Latin letters: the E, which needs no alphabet
        ("ar", False, "sloan", "sloan"),  # the clinician did not allow it
        ("ar", True, "landolt_c8", "landolt_c8"),  # already free of letters
        ("es", True, "sloan", "sloan"),
    ],
)
def test_letters_become_the_tumbling_e_for_a_patient_who_does_not_read_them(language, allowed, asked, shown):
    config = i18n.optotypes_for_language({"optotype_set": asked, "letters_fallback": allowed}, language)
    assert config["optotype_set"] == shown
    assert config.get("optotype_set_asked") == (asked if shown != asked else None)
    # Switching back to a Latin-script language gives the clinician's own choice again.
    assert i18n.optotypes_for_language(config, "en")["optotype_set"] == asked


def test_the_invite_e_mail_starts_in_the_tests_language():
    from types import SimpleNamespace

    from webapp import mail

    practice = SimpleNamespace(patient=SimpleNamespace(practice=SimpleNamespace(name="Augenpraxis Beispiel")))
    german = SimpleNamespace(language="de", config={"setup": "4m"}, contact_line=None, **vars(practice))
    subject, message = mail.default_text(german, own_message="Dear patient, {link}")
    assert subject == "Der Link zu Ihrem Sehtest" and message.startswith("Guten Tag,")
    assert "{link}" in message and "{expires}" in message  # still filled in when it is sent
    values = mail.placeholders(german, "morgen 18:00", "praxis@example.org", "https://visus.example.org/t/x")
    assert values["space"] == "ein Maßband und etwa 4,5 Meter freien Platz vor dem Bildschirm"
    assert values["practice"] == "Augenpraxis Beispiel" and values["contact"] == "praxis@example.org"
    # An English test keeps the clinician's own saved message.
    english = SimpleNamespace(language="en", config={"setup": "3m"})
    assert mail.default_text(english, own_message="Dear patient, {link}") == (
        mail.DEFAULT_SUBJECT,
        "Dear patient, {link}",
    )


# ---- errors, error pages and the result's notation in the patient's language ------------------------


def _unmarked_refusals(source: str) -> list[str]:
    """`LiveError(code, "English")` whose words are a plain string, not marked with N_(): a patient
    would read them in English (a message in a variable, such as a calibration's, gets the code's words)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "LiveError" and len(node.args) > 1:
            message = node.args[1]
            if isinstance(message, ast.Constant | ast.JoinedStr):
                found.append(ast.unparse(message))
    return found


@pytest.mark.parametrize("path", PATIENT_SOCKET_MODULES, ids=lambda path: path.name)
def test_every_refusal_of_the_patients_namespace_is_marked_for_the_catalogs(path):
    assert _unmarked_refusals(path.read_text(encoding="utf-8")) == []


def test_the_refusal_check_catches_a_plain_message():
    source = 'raise LiveError("a", N_("Fine."))\nraise LiveError("b", "Not fine.")\nraise LiveError("c", f"{x} no")'
    assert _unmarked_refusals(source) == ["'Not fine.'", "f'{x} no'"]


def test_the_patients_refusals_of_the_phase_table_are_in_the_catalogs():
    from webapp import events as ev
    from webapp.live import phases

    patient_commands = {ev.CONSENT, ev.LANGUAGE, ev.CALIBRATION, ev.READY, ev.ANSWER, ev.PRACTICE, ev.PRACTICE_ANSWER}
    messages = extract()
    refusals = [
        message for (command, _where), (_code, message) in phases.REFUSALS.items() if command in patient_commands
    ]
    assert refusals and [m for m in refusals if m not in messages] == []


def test_a_patients_socket_errors_are_in_the_tests_language_and_the_clinicians_in_english(app, clinician_client):
    public_id, token = create_test(clinician_client, language="es")
    screen = display(app, token)
    # A refusal of the phase table, with its own words.
    ack = screen.send("ready")
    assert ack == {"ok": False, "error": "wrong_phase", "message": "Primero acepte la prueba."}
    # A payload the page should never send: its detail is a developer's, so the code's words.
    ack = screen.send("calibration", {**CALIBRATION, "css_px_per_mm": "wide"})
    assert ack["error"] == "invalid_payload"
    assert ack["message"] == i18n.translate("es", PATIENT_WORDS["invalid_payload"])
    # A calibration the server refuses (a screen scale no screen has): the code's words, in Spanish.
    assert screen.send("consent")["ok"]
    ack = screen.send("calibration", {**CALIBRATION, "distance": {"method": "tape", "distance_mm": 5}})
    assert ack["ok"] is False and ack["error"] in ("calibration_refused", "invalid_payload"), ack
    assert ack["message"].startswith(("Esta medida", "Esta página")), ack
    # A refusal with a number filled in.
    assert screen.send("answer", {"trial_id": "right-0", "seq": 1, "responses": ["C"]})["message"] == (
        "Ahora no hay nada que responder; responda cuando las letras estén en la pantalla."
    )
    # The same kind of refusal to the clinician stays English.
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    ack = watch.send("present", {"session_id": public_id, "logmar": 0.5})
    assert ack["ok"] is False and ack["message"].startswith(("Wait", "The patient")), ack


def test_a_withdrawn_link_tells_the_open_pages_in_the_tests_language(app, clinician_client, monkeypatch):
    from webapp import credentials

    public_id, token = create_test(clinician_client, language="de")
    screen = display(app, token)
    assert screen.connected
    told = []  # what the closed socket was told (the test client drops a socket's events when it is closed)
    emit = credentials.socketio.emit
    monkeypatch.setattr(
        credentials.socketio, "emit", lambda event, data, **kw: told.append((event, data)) or emit(event, data, **kw)
    )
    assert clinician_client.post(f"/sessions/{public_id}/invite/revoke", data={"back": "invite"}).status_code == 303
    german = i18n.translate("de", credentials.PROBLEMS["withdrawn"])
    assert german != credentials.PROBLEMS["withdrawn"]
    assert ("error", {"error": "link_revoked", "message": german}) in told
    assert not screen.connected


@pytest.mark.parametrize(
    "language, heading, direction",
    [
        ("ar", "هذه الصفحة غير موجودة", "rtl"),
        ("es", "Esta página no existe", "ltr"),
        ("en", "This page does not exist", "ltr"),
    ],
)
def test_an_unknown_address_gets_a_page_in_the_browsers_language(client, language, heading, direction):
    page = client.get("/no-such-page", headers={"Accept-Language": f"{language},en;q=0.5"})
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert f'<html lang="{language}" dir="{direction}">' in text and heading in text
    assert "Not Found" not in text and "Back to the start" not in text


def test_a_clinicians_error_page_stays_english(clinician_client):
    page = clinician_client.get("/sessions/not-a-test", headers={"Accept-Language": "de"})
    assert page.status_code == 404
    assert '<html lang="en" dir="ltr">' in page.get_data(as_text=True)


def test_a_pad_code_form_left_open_too_long_says_so_in_the_browsers_language(db_path):
    app = make_app(db_path, WTF_CSRF_ENABLED=True)
    page = app.test_client().post("/pad", data={"code": "123456"}, headers={"Accept-Language": "es-ES"})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Esta página estuvo abierta demasiado tiempo" in text and '<html lang="es"' in text


def test_a_fault_of_the_server_gets_a_page_in_the_browsers_language(db_path):
    app = make_app(db_path, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    def broken():
        raise RuntimeError("a fault")

    app.add_url_rule("/broken-for-the-test", "broken", broken)
    page = app.test_client().get("/broken-for-the-test", headers={"Accept-Language": "de"})
    assert page.status_code == 500
    assert "Auf dem Server ist ein Fehler aufgetreten" in page.get_data(as_text=True)


def test_too_many_bad_links_are_refused_in_the_browsers_language(db_path):
    app = make_app(db_path, LINK_RATE_LIMIT="2 per hour")
    client = app.test_client()
    pages = [client.get(f"/t/not-a-real-token-{i}", headers={"Accept-Language": "ar"}) for i in range(3)]
    assert [p.status_code for p in pages] == [404, 404, 429]
    text = pages[-1].get_data(as_text=True)
    assert (
        "محاولات كثيرة جدًا" in text
        and "تم فتح روابط كثيرة جدًا لا تعمل" in text
        and '<html lang="ar" dir="rtl">' in text
    )


@pytest.mark.parametrize(
    "language, logmar, bound, style, text",
    [
        ("de", 0.1, "<=", {"lead": "decimal", "near_distance_mm": None}, "Visus 0,80 (6/7,5) oder besser"),
        ("es", 0.1, None, {"lead": "6m", "near_distance_mm": None}, "6/7,5 (20/25)"),
        ("es", -0.4, None, {"lead": "20ft", "near_distance_mm": None}, "mejor que 20/10 (mejor que 6/3)"),
        ("ar", 0.4, ">=", {"lead": "6m", "near_distance_mm": 400}, "N8 (1.0M على بعد 40 سم) أو أسوأ"),
        ("en", 0.4, ">=", {"lead": "6m", "near_distance_mm": 400}, "N8 (1.0M at 40 cm) or worse"),
    ],
)
def test_the_patients_result_reads_in_their_language_with_its_decimal_sign(language, logmar, bound, style, text):
    from webapp.patient_words import distance_texts, result_words

    assert result_words("right", logmar, bound, style, language=language)["notation"] == text
    # English is the clinician's notation, word for word.
    if language == "en":
        from webapp.serializers import describe

        assert text == describe(logmar, style, bound=bound)["notation_text"]
    assert distance_texts(1500, "de")["required_distance_text"] == "1,5 m"
