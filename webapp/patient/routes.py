"""The patient's pages. The links (`/t/<token>`, `/pad/<pad token>`) are each exchanged once for a
device credential cookie and redirect to the token-free pages (`/test`, `/pad`), which reload
(webapp/credentials.py). No patient path shows a bare 404: every refusal is a page saying what
happened and what to do."""

from flask import jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy import update

from acuity.optotypes import all_geometry
from webapp import credentials, i18n, pairing, security
from webapp import events as ev
from webapp.credentials import invite_problem
from webapp.extensions import db, socketio
from webapp.i18n import N_
from webapp.live.common import state_for
from webapp.models import TestSession, utcnow
from webapp.patient import bp

# What to do, on each refusal page.
REOPEN = N_("Open the link from your e-mail or message again in this browser.")
ASK = N_("Ask your clinician for a new link if that does not work.")
GO_BACK = N_("Go back to the device and browser where you first opened it: the test is still there.")
SCAN_AGAIN = N_("Scan the code shown on your test screen again with this phone.")


@bp.before_request
def _language_of_the_browser():
    """Until the test is known, the patient's pages speak the browser's language (if Visus has it);
    a page of a known test speaks the test's (`_in_language_of`)."""
    i18n.use_language(i18n.browser_language())


def _in_language_of(session: TestSession | None) -> None:
    if session is not None:
        i18n.use_language(session.language)


def _no_store(response):
    # Tokens and credentials: keep the pages out of caches and out of referrers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _refusal(status: int, heading: str, message: str, advice: list[str]):
    """A page saying what happened and what to do, in the page's language (the texts are English
    message ids, marked with N_ where they are written)."""
    _ = i18n.translator(i18n.page_language().code)
    page = render_template(
        "errors/link.html", heading=_(heading), message=_(message), advice=[_(item) for item in advice]
    )
    return _no_store(make_response(page, status))


def _link_refused(session: TestSession | None, problem: str):
    """A link or credential of an unknown (404), withdrawn or expired (410) test."""
    _in_language_of(session)
    if session is None:
        return _refusal(404, N_("This link cannot be used"), problem, [ASK])
    return _refusal(410, N_("This link cannot be used"), problem, [])


def _continue_here():
    """After a navigation from another site: navigate again from this one (credentials.cross_site_navigation)."""
    return _no_store(make_response(render_template("patient/continue.html")))


def _to_page(session: TestSession, device: str, secret: str | None = None):
    response = redirect(url_for(credentials.PAGES[device]), 303)
    if secret is not None:
        credentials.set_cookie(response, session, device, secret)
    return _no_store(response)


@bp.get("/t/<token>")
def test_page(token: str):
    """The invite link: exchanged once for this browser's display credential, then /test."""
    session = credentials.session_for_link(token, "display")
    problem = invite_problem(session)
    if problem:
        return _link_refused(session, problem)
    if credentials.cross_site_navigation():
        return _continue_here()
    mine = credentials.from_cookie("display")
    if mine is not None and mine.id == session.id:
        return _to_page(session, "display")  # opened again in the browser that holds the test
    # Claimed in one statement, so two browsers opening the link at once cannot both get it.
    claimed = db.session.execute(
        update(TestSession)
        .where(TestSession.id == session.id, TestSession.invite_used_at.is_(None))
        .values(invite_used_at=utcnow())
    ).rowcount
    if not claimed:
        db.session.rollback()
        return _refusal(
            410,
            N_("This link was already opened"),
            N_("This link works once, and it was already opened on another device or in another browser."),
            [GO_BACK, N_("To take the test on this device instead, ask your clinician for a new link.")],
        )
    secret = credentials.issue(session, "display")
    db.session.commit()
    return _to_page(session, "display", secret)


@bp.get("/pad/<pad_token>")
def pad(pad_token: str):
    """The pad link (the display's QR code): exchanged once for this phone's pad credential, then /pad.
    The display is shown a new pad link at once, so a phone can be paired again mid-test."""
    session = credentials.session_for_link(pad_token, "pad")
    if session is None:
        mine = credentials.from_cookie("pad")
        if mine is not None and not invite_problem(mine):
            return _to_page(mine, "pad")  # this phone's own link, opened again
        return _refusal(
            404,
            N_("This answer-pad link cannot be used"),
            N_("Each answer-pad link works once, and this one was already used or is no longer valid."),
            [SCAN_AGAIN, ASK],
        )
    problem = invite_problem(session)
    if problem:
        return _link_refused(session, problem)
    if credentials.cross_site_navigation():
        return _continue_here()
    claimed = db.session.execute(
        update(TestSession)
        .where(TestSession.id == session.id, TestSession.pad_token_hash == session.pad_token_hash)
        .values(pad_token_hash=None)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return _refusal(
            404,
            N_("This answer-pad link cannot be used"),
            N_("This answer-pad link was just used by another phone."),
            [SCAN_AGAIN],
        )
    return _pair_phone(session)


def _pair_phone(session: TestSession):
    """This phone becomes the test's pad: a new pad link and no code for the display (the used ones
    stop working), the credential cookie, then /pad."""
    credentials.renew_pad_link(session)
    pairing.clear(session)
    secret = credentials.issue(session, "pad")
    db.session.commit()
    socketio.emit(
        ev.STATE, state_for(session, "display"), to=ev.display_room(session.public_id), namespace=ev.PATIENT_NS
    )  # the new pad link, for pairing again
    return _to_page(session, "pad", secret)


def _(message: str, **params) -> str:
    """A message of these pages in the page's language (webapp/i18n.py)."""
    return i18n.translate(i18n.page_language().code, message, **params)


def _pair_page(status: int = 200, problem: str | None = None):
    """The phone's page without a pad credential: type the code the test screen shows."""
    page = render_template("patient/pair.html", problem=problem, digits=pairing.CODE_DIGITS)
    return _no_store(make_response(page, status))


@bp.post("/pad")
def pad_code():
    """The short code typed on the phone (the display shows it with the QR code): exchanged for
    this phone's pad credential, as the pad link is. Failed attempts are limited (webapp/security.py)."""
    code = pairing.normalise(request.form.get("code"))
    if code is None:
        return _pair_page(400, _("Type the {count} digits shown on your test screen.", count=pairing.CODE_DIGITS))
    session = pairing.session_for_code(code)
    if session is None or invite_problem(session) or not pairing.claim(session):
        db.session.rollback()
        return _pair_page(
            400,
            _(
                "That code does not work. Check the digits on your test screen and type them again; "
                "a code works once and for 10 minutes, and the screen then shows a new one."
            ),
        )
    return _pair_phone(session)


def _device_page(device: str, template: str):
    session = credentials.from_cookie(device)
    if session is None:
        if device == "display":
            return _refusal(
                404,
                N_("No eye test is open in this browser"),
                N_("This page shows your eye test only in the browser where you opened your link."),
                [REOPEN, N_("If you opened it on another device, go back to that device."), ASK],
            )
        return _pair_page()
    _in_language_of(session)
    problem = invite_problem(session)
    if problem:
        return _link_refused(session, problem)
    return _no_store(make_response(render_template(template)))


@bp.get("/test")
def test():
    """The patient's display: calibration, then the optotypes (this browser's display credential)."""
    return _device_page("display", "patient/test.html")


@bp.get("/test/camera")
def camera_frame():
    """The distance guard's camera frame, which the display opens in an <iframe allow="camera"> once
    the patient allows the camera: the face landmarks run here, under a policy that allows what the
    model needs, and only numbers go to the display (webapp/security.py; docs/security.md)."""
    response = _device_page("display", "patient/camera_frame.html")
    if response.status_code == 200:
        response.headers["Content-Security-Policy"] = security.CAMERA_FRAME_CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/pad")
def pad_page():
    """The answer pad on the patient's phone (this phone's pad credential)."""
    return _device_page("pad", "patient/pad.html")


@bp.get("/optotypes.json")
def optotypes():
    """The optotype geometry: the browser draws only from this."""
    response = jsonify(all_geometry())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
