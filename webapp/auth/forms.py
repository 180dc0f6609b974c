from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.auth.accounts import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Sign in")


class NewPasswordForm(FlaskForm):
    """A new account's password, typed twice (the rules themselves: webapp/auth/accounts.py)."""

    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."),
        ],
    )
    confirm = PasswordField(
        "Repeat the password", validators=[DataRequired(), EqualTo("password", message="The passwords differ.")]
    )


class SetupForm(NewPasswordForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Create the account")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")
