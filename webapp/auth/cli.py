import click

from webapp.auth import bp
from webapp.auth.accounts import AccountError, create_clinician, normalise_email, set_password

# The new password of either command: typed twice, not echoed, unless given.
password_option = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="At least 10 characters, not a common one; asked for when not given.",
)


@bp.cli.command("create-clinician")
@click.argument("email")
@password_option
def create_clinician_command(email: str, password: str) -> None:
    """Add a clinician account: flask --app webapp create-clinician EMAIL"""
    try:
        clinician = create_clinician(email, password)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created clinician {clinician.email}.")


@bp.cli.command("set-password")
@click.argument("email")
@password_option
def set_password_command(email: str, password: str) -> None:
    """Give a clinician a new password and end every sign-in of theirs: flask --app webapp set-password EMAIL"""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Clinician

    clinician = db.session.scalar(select(Clinician).where(Clinician.email == normalise_email(email)))
    if clinician is None:
        raise click.ClickException(f"There is no clinician with the email {normalise_email(email)}.")
    try:
        ended = set_password(clinician, password)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"New password set for {clinician.email}; {ended} sign-in(s) ended.")
