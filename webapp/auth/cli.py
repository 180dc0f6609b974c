import click

from webapp.auth import bp
from webapp.auth.accounts import AccountError, create_clinician


@bp.cli.command("create-clinician")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters; asked for when not given.")
def create_clinician_command(email: str, password: str) -> None:
    """Add a clinician account: flask --app webapp create-clinician EMAIL"""
    try:
        clinician = create_clinician(email, password)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created clinician {clinician.email}.")
