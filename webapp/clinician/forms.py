from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from acuity import low_vision
from webapp.i18n import LANGUAGES
from webapp.mail import MESSAGE_MAX, SUBJECT_MAX
from webapp.setups import TAPE_SETUPS

EYE_ORDERS = {
    "right_left": ["right", "left"],
    "left_right": ["left", "right"],
    "right": ["right"],
    "left": ["left"],
    "both": ["both"],
}


def options(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class PatientDetailsForm(FlaskForm):
    """A patient's optional details (the new-test form's new patient, the patient page's edit)."""

    patient_name = StringField("Name (optional)", validators=[Optional(), Length(max=120)])
    birth_year = StringField(
        "Year of birth (optional)",
        validators=[Optional()],  # checked in webapp/patients.py
        render_kw={"inputmode": "numeric"},
    )
    patient_email = EmailField("E-mail for invites (optional)", validators=[Optional(), Length(max=254)])

    def patient_details(self) -> dict:
        return {
            "name": self.patient_name.data,
            "birth_year": self.birth_year.data,
            "contact_email": self.patient_email.data,
        }


class PatientEditForm(PatientDetailsForm):
    save = SubmitField("Save the details")


class NewTestForm(PatientDetailsForm):
    # The patient: one of the practice's (found by `patient_query`, chosen by its public id) or a new one.
    patient_query = StringField("Find a patient of the practice (reference or name)", validators=[Length(max=120)])
    find = SubmitField("Find")
    patient_id = StringField("Patient", validators=[Optional(), Length(max=32)])
    patient_reference = StringField(
        "Reference (your practice's own, unique in the practice; no more than you need)",
        validators=[Optional(), Length(max=120)],
    )
    eyes = RadioField(
        "Eyes and order",
        default="right_left",
        choices=options(
            [
                ("right_left", "Right, then left"),
                ("left_right", "Left, then right"),
                ("right", "Right only"),
                ("left", "Left only"),
                ("both", "Both eyes together"),
            ]
        ),
    )
    optotype_set = RadioField(
        "Optotype",
        default="sloan",
        choices=options(
            [
                ("sloan", "Sloan letters"),
                ("tumbling_e", "Tumbling E"),
                ("landolt_c8", "Landolt C, 8 positions"),
                ("landolt_c4", "Landolt C, 4 positions"),
                ("hotv", "HOTV letters (children: matched on the phone)"),
            ]
        ),
    )
    child = BooleanField(
        "Child: HOTV letters, matched on the phone with large buttons, a practice round that teaches "
        "matching, and an adult may tap for the child",
    )
    procedure = RadioField(
        "Procedure",
        default="adaptive",
        choices=options(
            [
                ("adaptive", "Adaptive (the server chooses each size)"),
                ("chart", "Chart (rows from large to small)"),
                ("manual", "Manual (you choose each size)"),
            ]
        ),
    )
    chart_presentation = RadioField(
        "Chart: show",
        default="row",
        choices=options(
            [
                ("row", "a whole row at once"),
                ("single", "one letter at a time"),
                ("text", "a short line set like print (near reading: letters close together, no bars)"),
            ]
        ),
    )
    correction = RadioField(
        "Correction worn",
        default="none",
        choices=options(
            [
                ("none", "None"),
                ("glasses", "Glasses"),
                ("contact_lenses", "Contact lenses"),
            ]
        ),
    )
    setup = RadioField(
        "Set-up",
        default="3m",
        choices=options(
            [
                ("2m", "2 m, measured with a tape"),
                ("3m", "3 m, measured with a tape"),
                ("4m", "4 m, measured with a tape"),
                ("mirror", "Mirror (screen seen in a mirror)"),
                ("near_40cm", "Near, 40 cm"),
            ]
        ),
    )
    answer_mode = RadioField(
        "Answers",
        default="patient",
        choices=options(
            [
                ("patient", "Given by the patient (on the phone or the screen)"),
                ("clinician", "Scored by me (the patient reads aloud)"),
            ]
        ),
    )
    contact_line = StringField(
        "How the patient can reach you (optional, one line shown on their welcome page)",
        description="For example: Riverside Eye Clinic, Dr Lee, 01632 960 123",
        validators=[
            Length(max=160, message="Keep it to one short line (at most 160 characters)."),
            # One line of text: no control characters (line breaks, tabs), which would not show.
            Regexp(r"^[^\x00-\x1f\x7f]*\Z", message="Write it on one line, without line breaks or tabs."),
        ],
    )
    move_closer = BooleanField(
        "Low vision: move the patient closer (2 m, 1 m, 50 cm) when they cannot read the largest letters",
        description="Adaptive or manual procedure, at a distance measured with a tape.",
    )
    show_results = BooleanField("Show the results to the patient at the end")
    # The patient's pages, pad and e-mails in this language (webapp/i18n.py); the patient may change it.
    language = RadioField(
        "The patient's language",
        default="en",
        choices=options([(code, f"{lang.english_name} ({lang.name})") for code, lang in LANGUAGES.items()]),
    )
    letters_fallback = BooleanField(
        "If the patient's language is not written in Latin letters (Arabic), use the tumbling E instead of "
        "Sloan letters",
        default=True,
    )
    submit = SubmitField("Create the test and its invite link")

    def validate_move_closer(self, field) -> None:
        if field.data and (self.procedure.data not in low_vision.PROCEDURES or self.setup.data not in TAPE_SETUPS):
            raise ValidationError(
                "Moving the patient closer works with the adaptive or manual procedure at 2, 3 or 4 m: "
                "choose one of those, or leave this unticked."
            )

    # A child's test matches HOTV letters (the sets a child may be tested with that the pad's large
    # buttons show); the form's default, Sloan, is taken as "not chosen".
    CHILD_SETS = ("hotv", "sloan")

    def validate_child(self, field) -> None:
        if field.data and self.optotype_set.data not in self.CHILD_SETS:
            raise ValidationError("A child's test uses HOTV letters: choose HOTV letters, or untick Child.")

    def test_config(self) -> dict:
        child = bool(self.child.data)
        return {
            "eyes": EYE_ORDERS[self.eyes.data],
            "optotype_set": "hotv" if child else self.optotype_set.data,
            **({"child": True} if child else {}),  # only in a child's test: other configs stay as they were
            "procedure": self.procedure.data,
            "chart_presentation": self.chart_presentation.data,
            "correction": self.correction.data,
            "setup": self.setup.data,
            "answer_mode": self.answer_mode.data,
            "letters_fallback": bool(self.letters_fallback.data),
            **({"move_closer": True} if self.move_closer.data else {}),  # low vision: only when ticked
        }


class ConfirmForm(FlaskForm):
    """An empty form: a POST button with a CSRF token."""


# Where a form of the invite panel (webapp/templates/clinician/_invite_panel.html) returns to: a name,
# never an address, so no form can send the clinician elsewhere.
BACK_PAGES = ("invite", "live", "dashboard")


class InvitePanelForm(FlaskForm):
    """Re-issue and withdraw: a POST with a CSRF token and the page to return to."""

    back = HiddenField(default="invite", validators=[AnyOf(BACK_PAGES)])


class InviteMailForm(InvitePanelForm):
    to = EmailField(
        "Patient's e-mail address",
        validators=[DataRequired(message="Give the patient's e-mail address."), Length(max=254)],
    )
    subject = StringField("Subject", validators=[DataRequired(message="Give a subject."), Length(max=SUBJECT_MAX)])
    message = TextAreaField(
        "Message ({link} is replaced by the link, {expires} by when it expires)",
        validators=[DataRequired(message="Write the message."), Length(max=MESSAGE_MAX)],
    )
    save_message = BooleanField("Keep this message as my text for the next invites")
