"""Clerk commands of the ``goalforms`` CLI: the web app (``serve``), its users (``user add``,
``user passwd``, ``user units``, ``user remove``, ``user list``), and the bulk twin of the web app
(``issues``, ``corrections export|apply|undo``).

Arguments in, library call (goalforms.pipeline.archive, goalforms.pipeline.users), text out;
errors become ``error: …`` on standard error and exit code 1 (docs/clerks.md). The bulk commands
take ``--user NAME``: they then work within that user's units (the same
:class:`~goalforms.pipeline.scope.Scope` as the web app) and record that user as the author.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import sys
from dataclasses import astuple, fields
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from goalforms.errors import GoalformsError
from goalforms.pipeline.cli_analysis import DbOption, FormatOption, OutputFormat
from goalforms.pipeline.terminal import safe
from goalforms.schema.db import DEFAULT_DB

# The library (corrections, users, SQLAlchemy) is imported by each command when it runs: every
# goalforms command builds these commands' options at start-up. The roles are named in --role's
# help as text for the same reason (tests/test_startup.py checks it names every role).

AuthorOption = Annotated[str | None, typer.Option("--author", help="Who makes the change (default: your login name).",
                                                  show_default=False)]
UserOption = Annotated[str | None, typer.Option("--user", help="Work as this web-app user: only the forms of their "
                                                "units, and they are the author.", show_default=False)]
UnitsOption = Annotated[list[str] | None, typer.Option("--unit", help="Limit the user to this unit's forms (the "
                                                       "unit as forms name it; repeat for several; none: every "
                                                       "unit).", show_default=False)]


class FileFormat(StrEnum):
    csv = "csv"
    json = "json"


def _fail(exc: GoalformsError) -> typer.Exit:
    # Plain text, not Rich markup: field paths are full of [brackets].
    sys.stderr.write(f"error: {safe(exc)}\n")
    return typer.Exit(1)


def _author(author: str | None) -> str:
    return author or getpass.getuser()


def _who(user: str | None, author: str | None) -> str:
    from goalforms.pipeline import users

    if user is not None and author is not None and author != user:
        raise users.UserError("--author and --user name different people: give one")
    return user or _author(author)


def _document_path(path: str | None) -> str | None:
    # Documents are stored by their resolved absolute path (as the importer keys them).
    return str(Path(path).resolve()) if path else None


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (default: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    secret_file: Annotated[Path | None, typer.Option("--secret-file", help="File holding the session-signing secret "
                                                     "(created if missing; default: DB.secret beside an SQLite "
                                                     "file, else ./goalforms-web.secret).", show_default=False)] = None,
    behind_proxy: Annotated[bool, typer.Option("--behind-proxy", help="An HTTPS proxy forwards to the app: trust its "
                                               "X-Forwarded-Proto and X-Forwarded-For (from --proxy-address only).")
                            ] = False,
    proxy_address: Annotated[list[str] | None, typer.Option("--proxy-address", help="Address the proxy connects "
                                                            "from (repeatable; default 127.0.0.1 and ::1).",
                                                            show_default=False)] = None,
    idle_minutes: Annotated[int, typer.Option("--idle-minutes", min=1, help="A session unused this long ends.")] = 60,
    session_hours: Annotated[int, typer.Option("--session-hours", min=1, help="A session ends this long after "
                                               "login, used or not.")] = 10,
) -> None:
    """Start the clerks' web app (queue, form pages beside their source, corrections)."""
    import uvicorn
    from sqlalchemy.orm import Session

    from goalforms.pipeline import users
    from goalforms.pipeline.archive import Archive
    from goalforms.pipeline.web import create_app, load_secret, secret_path_for
    from goalforms.pipeline.web.app import Settings, is_loopback
    from goalforms.pipeline.web.sessions import Lifetimes
    from goalforms.schema.db import database_url

    url = database_url(db)
    archive = Archive(url)
    archive.refresh_corrections()  # files re-imported by an importer that did not reapply
    engine = archive.engine
    with Session(engine) as session:
        if not users.list_users(session):
            sys.stderr.write("note: no users yet; create one with: goalforms user add NAME --role clerk\n")
    secret = load_secret(secret_file or secret_path_for(url))
    local = is_loopback(host)
    if not local:
        sys.stderr.write(f"warning: listening on {host} without TLS: put it behind an HTTPS proxy (cookies are "
                         "Secure: browsers send them over HTTPS only)\n")
    settings = Settings(Lifetimes(dt.timedelta(minutes=idle_minutes), dt.timedelta(hours=session_hours)),
                        secure_cookies=not local, behind_proxy=behind_proxy,
                        proxies=tuple(proxy_address or ("127.0.0.1", "::1")))
    sys.stderr.write(f"goalforms web app on http://{host}:{port}/ (Ctrl-C stops it)\n")
    _log_logins()
    # uvicorn's own proxy-header handling is off: the app does it, only when told (--behind-proxy).
    uvicorn.run(create_app(engine, secret, settings), host=host, port=port, log_level="warning",
                proxy_headers=False)


class _ToStderr(logging.Handler):
    """Log lines on standard error (looked up when written: tests replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")


def _log_logins() -> None:
    """Failed logins, back-offs and locks (goalforms.web.login) on standard error, with the time."""
    logger = logging.getLogger("goalforms.web")
    if not logger.handlers:
        handler = _ToStderr()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def issues(
    db: DbOption = DEFAULT_DB,
    file: Annotated[str | None, typer.Option("--file", help="Only this imported file.", show_default=False)] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Only forms of this unit.", show_default=False)] = None,
    year: Annotated[int | None, typer.Option("--year", help="Only forms of this year.", show_default=False)] = None,
    code: Annotated[str | None, typer.Option("--code", help="Only this issue code.", show_default=False)] = None,
    project: Annotated[str | None, typer.Option("--project", help="Project names containing this.",
                                                show_default=False)] = None,
    fmt: FormatOption = OutputFormat.table,
    user: UserOption = None,
) -> None:
    """List open issues (resolved ones left out), in document order."""
    from goalforms.pipeline.analysis import QueryResult, render
    from goalforms.pipeline.archive import Archive
    from goalforms.pipeline.corrections.queries import OpenIssue

    try:
        found = Archive(db).issues(_document_path(file), unit, year, code, project, user=user)
    except GoalformsError as exc:
        raise _fail(exc) from None
    columns = tuple(f.name for f in fields(OpenIssue))
    sys.stdout.write(render(QueryResult(columns, [astuple(i) for i in found]), fmt.value))


def user_add(
    name: Annotated[str, typer.Argument(help="The user's login name.", show_default=False)],
    role: Annotated[str, typer.Option("--role", help="clerk (corrects forms) or analyst (reads).", show_default=False)],
    db: DbOption = DEFAULT_DB,
    unit: UnitsOption = None,
) -> None:
    """Create a user; the password is read from the prompt, or from standard input when piped."""
    from sqlalchemy.orm import Session

    from goalforms.pipeline import users
    from goalforms.schema.db import connect

    password = _password()
    try:
        engine = connect(db)
        with Session(engine) as session, session.begin():
            users.add_user(session, name, role, password, unit or ())
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(f"added {role} {name} ({_units_text(unit or [])})\n")


def _units_text(units: list[str]) -> str:
    return "units: " + ", ".join(units) if units else "every unit"


def user_units(
    name: Annotated[str, typer.Argument(help="The user's login name.", show_default=False)],
    add: Annotated[list[str] | None, typer.Option("--add", help="Add a unit (repeatable).", show_default=False)] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="Remove a unit (repeatable).",
                                                     show_default=False)] = None,
    all_units: Annotated[bool, typer.Option("--all-units", help="Remove every limit: the user sees every unit's "
                                            "forms.")] = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Show or change the units a user is limited to (no unit: every unit's forms)."""
    from sqlalchemy.orm import Session

    from goalforms.pipeline import users
    from goalforms.schema.db import connect

    try:
        engine = connect(db)
        with Session(engine) as session, session.begin():
            now = users.change_units(session, name, add or (), remove or (), unlimited=all_units)
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(f"{name}: {_units_text(now)}\n")


def user_remove(
    name: Annotated[str, typer.Argument(help="The user's login name.", show_default=False)],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Remove a user: their web sessions end at once; their corrections stay on record."""
    from sqlalchemy.orm import Session

    from goalforms.pipeline import users
    from goalforms.schema.db import connect

    try:
        engine = connect(db)
        with Session(engine) as session, session.begin():
            users.remove_user(session, name)
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(f"removed {name}\n")


def user_passwd(
    name: Annotated[str, typer.Argument(help="The user's login name.", show_default=False)],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Set a user's password (from the prompt, or standard input when piped); ends their web sessions."""
    from sqlalchemy.orm import Session

    from goalforms.pipeline import users
    from goalforms.schema.db import connect

    password = _password()
    try:
        engine = connect(db)
        with Session(engine) as session, session.begin():
            users.set_password(session, name, password)
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(f"password of {name} changed\n")


def user_list(db: DbOption = DEFAULT_DB) -> None:
    """List the users, their roles and units."""
    from sqlalchemy.orm import Session

    from goalforms.pipeline import users
    from goalforms.schema.db import connect

    engine = connect(db)
    with Session(engine) as session:
        for user in users.list_users(session):
            units = users.units_of(session, user)
            sys.stdout.write(f"{user.name}\t{user.role}\t{user.created_at:%Y-%m-%d}\t{_units_text(units)}\n")


def _password() -> str:
    if sys.stdin.isatty():
        value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return value
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def corrections_export(
    db: DbOption = DEFAULT_DB,
    out: Annotated[Path | None, typer.Option("--out", help="File to write (.csv or .json); default: standard "
                                             "output.", show_default=False)] = None,
    fmt: Annotated[FileFormat | None, typer.Option("--format", help="csv or json (default: from --out, else csv).",
                                                   show_default=False)] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only active, stale or undone corrections.",
                                               show_default=False)] = None,
    file: Annotated[str | None, typer.Option("--file", help="Only corrections of this imported file.",
                                             show_default=False)] = None,
    user: UserOption = None,
) -> None:
    """Write the corrections (who, when, field, old value, new value, note, status)."""
    from goalforms.pipeline import corrections
    from goalforms.pipeline.archive import Archive

    chosen = fmt.value if fmt else ("json" if out is not None and out.suffix.lower() == ".json" else "csv")
    archive = Archive(db)
    archive.open()
    try:
        rows = archive.export_corrections(_document_path(file), status, user=user)
    except GoalformsError as exc:
        raise _fail(exc) from None
    if out is None:
        corrections.write_corrections(rows, sys.stdout, chosen)
        return
    with out.open("w", encoding="utf-8", newline="") as handle:
        corrections.write_corrections(rows, handle, chosen)
    sys.stderr.write(f"wrote {len(rows)} corrections to {out}\n")


def corrections_apply(
    file: Annotated[Path, typer.Argument(help="A .csv or .json file with the columns of `corrections export`.",
                                         show_default=False)],
    db: DbOption = DEFAULT_DB,
    author: AuthorOption = None,
    user: UserOption = None,
) -> None:
    """Record the corrections of a CSV or JSON file: all of them, or none if any is refused."""
    from goalforms.pipeline.archive import Archive
    from goalforms.pipeline.corrections import CorrectionError

    try:
        planned, made = Archive(db).apply_corrections(file, _who(user, author), user=user)
    except CorrectionError as exc:
        sys.stderr.write("error: nothing applied:\n" + "".join(f"  {safe(p)}\n" for p in exc.problems))
        raise typer.Exit(1) from None
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(f"applied {len(made)} corrections ({planned - len(made)} changed nothing)\n")


def corrections_undo(
    correction_id: Annotated[int, typer.Argument(help="The correction's id (see `corrections export`).",
                                                 show_default=False)],
    db: DbOption = DEFAULT_DB,
    author: AuthorOption = None,
    user: UserOption = None,
) -> None:
    """Undo a correction (it stays on record, marked undone)."""
    from goalforms.pipeline.archive import Archive

    try:
        lost = Archive(db).undo(correction_id, _who(user, author), user=user)
    except GoalformsError as exc:
        raise _fail(exc) from None
    sys.stdout.write(f"undid correction {correction_id}\n")
    for c in lost:
        sys.stdout.write(safe(f"no longer applies: #{c.id} {c.action} {c.field}: {c.status_reason}") + "\n")


def register(app: typer.Typer) -> None:
    """Add the clerk commands to ``app``."""
    app.command("serve")(serve)
    app.command("issues")(issues)
    user = typer.Typer(help="Users of the web app (clerks correct, analysts read).", no_args_is_help=True)
    user.command("add")(user_add)
    user.command("passwd")(user_passwd)
    user.command("units")(user_units)
    user.command("remove")(user_remove)
    user.command("list")(user_list)
    app.add_typer(user, name="user")
    bulk = typer.Typer(help="Corrections in bulk: export, apply from a file, undo.", no_args_is_help=True)
    bulk.command("export")(corrections_export)
    bulk.command("apply")(corrections_apply)
    bulk.command("undo")(corrections_undo)
    app.add_typer(bulk, name="corrections")
