"""Commands for the workplace: serve the web app, and manage the accounts people log in with."""

import getpass
from typing import TYPE_CHECKING, Annotated

import typer

from duban.app import (
    HOST,
    PORT,
    JsonFlag,
    WebHost,
    WebPort,
    app,
    database_url,
    emit_json,
    fail,
    settings,
    show_rows,
)

if TYPE_CHECKING:
    from tasks.work.actors import Actor

users_app = typer.Typer(help="Accounts for the web app (people, not units).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def web(host: WebHost = HOST, port: WebPort = PORT) -> None:
    """Serve the web app alone: units report and submit, the office decides, leadership reads.
    (`duban serve` serves it too, beside the scheduler.) HTTPS belongs to a reverse proxy in
    front (set DUBAN_BEHIND_PROXY=true there)."""
    import uvicorn

    from duban.web.server import listening, web_config

    config = settings()
    database_url()
    typer.echo(f"duban {listening(config, host, port)}")
    try:
        uvicorn.Server(web_config(config, host, port)).run()
    except KeyboardInterrupt:  # uvicorn stops on Ctrl-C, then raises it again
        pass


def operator() -> "Actor":
    """Who manages accounts at the server: the operating system's user, through the CLI."""
    from schemas.vocabulary import ActorKind, Channel
    from tasks.work.actors import Actor

    user = getpass.getuser()
    return Actor(ActorKind.OFFICE, label=user, person=user, channel=Channel.CLI)


def _password(given: str | None) -> str:
    """From the option, else asked twice without echo: a password never lands in history."""
    if given:
        return given
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        fail("the two passwords differ")
    return first


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option(help="liaison, office or leadership.")],
    name: Annotated[str, typer.Option(help="The person's name as pages show it.")] = "",
    unit: Annotated[str | None, typer.Option(help="A liaison's unit (code).")] = None,
    plan: Annotated[str | None, typer.Option(help="Limit the account to one plan.")] = None,
    email: Annotated[str | None, typer.Option(help="The person's address.")] = None,
    password: Annotated[
        str | None, typer.Option(help="Default: asked for, without echo (safer).")
    ] = None,
) -> None:
    """Add an account."""
    from calendars.clock import now
    from schemas.db import session_scope
    from tasks.work.accounts import add_account

    with session_scope(database_url()) as session:
        add_account(
            session,
            username=username,
            name=name or username,
            role=role,
            password=_password(password),
            unit_code=unit,
            plan_code=plan,
            email=email,
            at=now(),
        )
    typer.echo(f"added {username} ({role})")


@users_app.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """List the accounts (never their passwords)."""
    from tasks.work.accounts import list_accounts

    show_rows(
        "accounts",
        list_accounts,
        ["username", "name", "role", "unit", "plan", "email", "active", "locked_until"],
        as_json=as_json,
    )


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The login name.")]) -> None:
    """Disable an account: it can no longer log in, and its open sessions end."""
    from schemas.db import session_scope
    from tasks.work.accounts import disable_account

    with session_scope(database_url()) as session:
        disable_account(session, username)
    typer.echo(f"disabled {username}")


@users_app.command("reset")
def users_reset(
    username: Annotated[str, typer.Argument(help="The login name.")],
    password: Annotated[
        str | None, typer.Option(help="Default: asked for, without echo (safer).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a new password; the account is enabled and unlocked, its open sessions end. The
    audit trail records it, by the operating system's user, through the CLI."""
    from calendars.clock import now
    from schemas.db import session_scope
    from tasks.work.accounts import reset_password

    with session_scope(database_url()) as session:
        reset_password(session, username, _password(password), by=operator(), at=now())
    if as_json:
        emit_json({"username": username, "reset": True})
    else:
        typer.echo(f"reset {username}")
