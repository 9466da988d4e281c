"""Set-up commands: init, serve, users, projects, forms and phones (app users)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from samen import audit
from samen.auth import new_token
from samen.cli.context import cli_context, read_secret
from samen.config import settings_from_env
from samen.collect_settings import collect_server_url, collect_settings, qr_code, qr_png, settings_payload
from samen.models import AppUser, Form, FormAssignment, Project, ProjectRole, User, utcnow
from samen.passwords import hash_password
from samen.problems import Problem
from samen.publishing import FormUpload, publish_definition
from samen.queries import get_form, get_project

FILE_TYPES = {".xml": "xml", ".xlsx": "xlsx", ".xls": "xls", ".md": "md"}


def fail(problem: Problem) -> None:
    raise click.ClickException(problem.message)


def _publish_file(session, blobs, project: Project, path: Path, encrypt: bool):
    file_type = FILE_TYPES.get(path.suffix.lower())
    if file_type is None:
        raise click.UsageError(f"{path}: publish an XForm (.xml) or an XLSForm (.xlsx, .xls, .md).")
    upload = FormUpload(path.read_bytes(), file_type, form_id_fallback=path.stem)
    return publish_definition(session, blobs, project, upload, None, encrypt_with_project_key=encrypt)


@click.command("init")
@click.option("--default-project", help="Create this project if no project exists yet.")
@click.option("--forms", "forms_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Publish every form in this folder into the default project.")
def init_command(default_project: str | None, forms_dir: Path | None) -> None:
    """Create or upgrade the database (safe to run again); create the first administrator."""
    context = cli_context()
    context.settings.data_dir.mkdir(parents=True, exist_ok=True)
    context.database.migrate()
    secret_file = context.settings.data_dir / "secret.key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    with context.database.session() as session:
        if session.scalar(select(func.count()).select_from(User)) == 0:
            email = os.environ.get("SAMEN_ADMIN_EMAIL", "admin@samen.local")
            password = os.environ.get("SAMEN_ADMIN_PASSWORD")
            generated = password is None
            password = password or secrets.token_urlsafe(12)
            session.add(User(email=email, display_name="Administrator", password_hash=hash_password(password), is_admin=True))
            click.echo(f"Administrator: {email}")
            if generated:
                click.echo(f"Password (shown once, write it down): {password}")
        if default_project:
            project = session.scalar(select(Project).order_by(Project.id).limit(1))
            if project is None:
                project = Project(name=default_project)
                session.add(project)
                session.flush()
                audit.record(session, "project.create", project_id=project.id, name=default_project)
            click.echo(f"Project {project.id}: {project.name}")
            if forms_dir:
                from samen.formset import encrypted_form_ids

                encrypted = encrypted_form_ids()
                for path in sorted(forms_dir.glob("*.xml")):
                    try:
                        version = _publish_file(session, context.blobs, project, path, path.stem in encrypted)
                    except Problem as problem:
                        fail(problem)
                    click.echo(f"  published {path.stem} version {version.version}")
    click.echo(f"Database ready: {context.settings.sqlalchemy_url.split('@')[-1]}")


def gunicorn_argv(host: str, port: int, workers: int, threads: int, app: str = "samen.wsgi:app") -> list[str]:
    """How `samen serve` runs gunicorn (bench/ingest.py runs its no-database floor the same way)."""
    # Threaded workers keep connections alive: Collect sends a HEAD and then the POST on one connection.
    return [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "gthread",
            "--threads", str(threads), "--bind", f"{host}:{port}", "--timeout", "300",
            "--access-logfile", "-", "--logger-class", "samen.log_redaction.AccessLogger", app]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8383, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Processes (about one per core).")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per process.")
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve with gunicorn (a production WSGI server)."""
    click.echo(f"SAMEN Forms at http://{host}:{port}/  (phones: create an app user and scan its QR code)")
    os.execv(sys.executable, gunicorn_argv(host, port, workers, threads))


@click.group("user")
def user_group() -> None:
    """Web users (staff)."""


@user_group.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Make an administrator of every project.")
@click.option("--name", "display_name", help="Display name (default: the email address).")
def user_create(email: str, admin: bool, display_name: str | None) -> None:
    """Create a user; the password is read from standard input when piped, prompted otherwise."""
    password = read_secret("Password", confirm=True)
    context = cli_context()
    with context.database.session() as session:
        if session.scalar(select(User).where(func.lower(User.email) == email.lower())):
            raise click.ClickException(f"A user with the email {email} already exists.")
        user = User(email=email, display_name=display_name or email, password_hash=hash_password(password), is_admin=admin)
        session.add(user)
        session.flush()
        audit.record(session, "user.create", actor_id=None, userId=user.id, admin=admin)
        click.echo(user.id)


@user_group.command("assign")
@click.argument("email")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--role", type=click.Choice(["manager", "viewer", "collector"]), required=True)
def user_assign(email: str, project_id: int, role: str) -> None:
    """Give a user a role in a project."""
    context = cli_context()
    with context.database.session() as session:
        user = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is None:
            raise click.ClickException(f"There is no user {email}.")
        get_project(session, project_id)
        if session.get(ProjectRole, (user.id, project_id, role)) is None:
            session.add(ProjectRole(user_id=user.id, project_id=project_id, role=role))
            audit.record(session, "user.role.assign", project_id=project_id, userId=user.id, role=role)


@click.group("project")
def project_group() -> None:
    """Projects."""


@project_group.command("create")
@click.argument("name")
def project_create(name: str) -> None:
    """Create a project and print its id."""
    context = cli_context()
    with context.database.session() as session:
        project = Project(name=name)
        session.add(project)
        session.flush()
        audit.record(session, "project.create", project_id=project.id, name=name)
        click.echo(project.id)


@click.group("form")
def form_group() -> None:
    """Forms."""


@form_group.command("publish")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--no-encrypt", is_flag=True, help="Publish without the project key even if the project has one.")
@click.option("--retention-days", type=click.IntRange(min=1),
              help="Delete submissions this many days after receipt (default: the project's period).")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def form_publish(project_id: int, no_encrypt: bool, retention_days: int | None, files: tuple[Path, ...]) -> None:
    """Publish XLSForms (.xlsx, .xls, .md) or XForms (.xml)."""
    context = cli_context()
    for path in files:
        try:
            with context.database.session() as session:
                version = _publish_file(session, context.blobs, get_project(session, project_id), path, not no_encrypt)
                if retention_days is not None:  # applied by `samen retention run`
                    session.get(Form, version.form_id).retention_days = retention_days
                click.echo(f"{path.name}: published version {version.version or '(none)'}"
                           + (" (encrypted)" if version.public_key else ""))
        except Problem as problem:
            fail(problem)


@click.group("app-user")
def app_user_group() -> None:
    """App users: the credential a phone gets by scanning a QR code."""


def collect_base_url() -> str:
    # A command has no request to take the host from: the public URL, or where `samen serve` listens by default.
    return settings_from_env().public_url or "http://127.0.0.1:8383"


def echo_collect_setup(server_url: str, settings: dict, qr_file: Path | None) -> None:
    """Print the server URL and the QR code that sets Collect up with it; also write the code as PNG if asked."""
    payload = settings_payload(settings)
    click.echo(f"Collect server URL: {server_url}")
    qr_code(payload).terminal(compact=True)
    if qr_file:
        qr_file.write_bytes(qr_png(payload))
        click.echo(f"QR code written to {qr_file}")


@app_user_group.command("create")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--form", "form_ids", multiple=True, help="A form this phone may fill (repeat for several).")
@click.option("--qr", "qr_file", type=click.Path(dir_okay=False, path_type=Path), help="Also write the QR code as PNG.")
@click.argument("name")
def app_user_create(project_id: int, form_ids: tuple[str, ...], qr_file: Path | None, name: str) -> None:
    """Create an app user, print its server URL and the QR code that sets up Collect."""
    context = cli_context()
    try:
        with context.database.session() as session:
            project = get_project(session, project_id)
            app_user = AppUser(project_id=project_id, display_name=name, token=new_token())
            session.add(app_user)
            session.flush()
            for xml_form_id in form_ids:
                session.add(FormAssignment(app_user_id=app_user.id, form_id=get_form(session, project_id, xml_form_id).id))
            audit.record(session, "app_user.create", project_id=project_id, appUserId=app_user.id, forms=list(form_ids))
            url = collect_server_url(collect_base_url(), project_id, app_user.token)
            project_name, app_user_id = project.name, app_user.id
    except Problem as problem:
        fail(problem)
    click.echo(f"App user {app_user_id}: {name}")
    echo_collect_setup(url, collect_settings(url, project_name), qr_file)


@app_user_group.command("revoke")
@click.option("--project", "project_id", required=True, type=int)
@click.argument("app_user_id", type=int)
def app_user_revoke(project_id: int, app_user_id: int) -> None:
    """Lock a phone out: its token stops working at once."""
    context = cli_context()
    with context.database.session() as session:
        app_user = session.get(AppUser, app_user_id)
        if app_user is None or app_user.project_id != project_id:
            raise click.ClickException("There is no such app user in this project.")
        app_user.revoked_at = utcnow()
        app_user.token = None
        audit.record(session, "app_user.revoke", project_id=project_id, appUserId=app_user_id)
        click.echo(f"Revoked app user {app_user_id} ({app_user.display_name}).")
