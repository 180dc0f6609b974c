"""A live-test request refused: sent back as {ok: false, error: code, message}. Nothing is stored.

The message is English (its message id, webapp/i18n.py); a patient's display or pad reads it in the
test's language (`patient_text`), the clinician in English (docs/protocol.md, "Errors")."""

from __future__ import annotations

from webapp.i18n import DEFAULT, N_, catalog, language, translate

# What a patient reads for a refusal whose own words are not in the catalogs (a developer's detail
# such as a payload's field, or a calibration's numbers): what to do, by error code.
PATIENT_WORDS = {
    "invalid_payload": N_("This page sent something the test could not use. Reload the page and try again."),
    "calibration_refused": N_(
        "This measurement could not be used. Check the card or the distance, measure again and try once more."
    ),
    "procedure_error": N_("The test could not go on from here. Wait a moment; your clinician can see this."),
    "wrong_phase": N_("This cannot be done at this step of the test. Follow the words on your test screen."),
    "stale_trial": N_("That letter is no longer on screen; answer the one shown now."),
}
OTHER = N_("This could not be done. Reload the page and try again; if it happens again, tell your clinician.")


class LiveError(Exception):
    """A request refused: sent back as {ok: false, error: code, message}. Nothing is stored.

    `message` is an English message id with `{name}` placeholders filled from `params`
    (`LiveError("stale_trial", N_("..."))`); `.message` is the English text."""

    def __init__(self, code: str, message: str, **params):
        self.code = code
        self.template = message
        self.params = params
        self.message = message.format(**params) if params else message
        super().__init__(self.message)


def patient_text(error: str, message: str, code: str | None, **params) -> str:
    """An error's English `message` (a message id) as a patient of language `code` reads it: its
    translation, or, when no catalog has its words, what to do for its error code (PATIENT_WORDS) in
    that language. English: the message itself."""
    lang = language(code).code
    if lang == DEFAULT:
        return message.format(**params) if params else message
    if message in catalog(lang):
        return translate(lang, message, **params)
    return translate(lang, PATIENT_WORDS.get(error, OTHER))
