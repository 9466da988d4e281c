"""Data-protection commands: retention, erasure by code, the audit log, the processing register, export purge."""

from __future__ import annotations

import csv
import json
import sys
import tomllib
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from samen import audit, keyring
from samen.audit import verify_chain
from samen.cli.context import cli_context, read_secret
from samen.decrypting import KeyChain
from samen.erasure import erase_participant, receipt_text, server_secret
from samen.formset import MANIFEST_NAME, default_source_dir, load_allowlist
from samen.models import AuditEvent, utcnow
from samen.problems import Problem
from samen.queries import get_project
from samen.register import processing_register, register_html, register_markdown
from samen.retention import purge_expired_exports, run_retention


def _fail(problem: Problem) -> None:
    raise click.ClickException(problem.message) from None


@click.group("retention")
def retention_group() -> None:
    """Delete data that has outlived its form's retention period (run daily: docs/retention.md)."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
def retention_run(dry_run: bool) -> None:
    """Permanently delete submissions older than their form's retention period, and what hangs off them."""
    context = cli_context()
    try:
        report = run_retention(context.database, context.blobs, dry_run=dry_run)
    finally:
        context.database.dispose()
    table = Table(title="Retention (dry run: nothing deleted)" if dry_run else "Retention")
    for column in ("Project", "Form", "Days", "Received before", "Submissions", "List entries"):
        table.add_column(column)
    for form in report.forms:
        table.add_row(str(form.project_id), form.xml_form_id, str(form.retention_days), f"{form.cutoff:%Y-%m-%d %H:%M}",
                      str(form.submissions), str(form.entities))
    Console().print(table)
    click.echo(f"{'Would delete' if dry_run else 'Deleted'} {report.submissions} submission(s) and "
               f"{report.blobs} file(s).")


@click.command("erase")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--code", required=True, help="The participant's code (K7M4-TQX or a self-made code; case and dashes do not matter).")
@click.option("--passphrase-stdin", is_flag=True, help="Read a custodian's passphrase from standard input (encrypted forms).")
@click.option("--yes", is_flag=True, help="Delete without asking (otherwise the command shows what it found and asks).")
def erase_command(project_id: int, code: str, passphrase_stdin: bool, yes: bool) -> None:
    """A participant withdraws: find everything linked to their code, show it, and delete it permanently."""
    context = cli_context()
    passphrase = read_secret("Passphrase") if passphrase_stdin else None
    try:
        secret = server_secret(context.settings)
        with context.database.session() as session:
            project_name = get_project(session, project_id).name
            keys = KeyChain(keyring.unlock_with_passphrase(session, project_id, passphrase).values()) \
                if passphrase else KeyChain()
        preview = erase_participant(context.database, context.blobs, project_id, code, keys, secret=secret,
                                    actor_id=None, confirm=False)
        click.echo(receipt_text(preview, project_name))
        if not preview.plan.submissions and not preview.plan.entities and not preview.plan.locked:
            return
        if not yes:
            if not sys.stdin.isatty():
                raise click.UsageError("Nothing deleted: add --yes to delete without a question.")
            click.confirm("Delete this permanently?", abort=True)
        outcome = erase_participant(context.database, context.blobs, project_id, code, keys, secret=secret,
                                    actor_id=None, confirm=True)
    except Problem as problem:
        _fail(problem)
    finally:
        context.database.dispose()
    click.echo("")
    click.echo(receipt_text(outcome, project_name))


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain; name the first event that was edited, deleted or moved."""
    context = cli_context()
    try:
        with context.database.session() as session:
            events = session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=500))
            counted = _Counted(events)
            broken = verify_chain(counted)
    finally:
        context.database.dispose()
    if broken is not None:
        click.echo(f"The audit log was tampered with at event {broken.event_id}: {broken.reason}.", err=True)
        sys.exit(1)
    # The chain cannot show that its newest events were cut off: keep the head hash somewhere else to compare.
    click.echo(f"The audit log is intact: {counted.count} event(s); newest hash {counted.last_hash or '(none)'}.")


class _Counted:
    """Passes events through to verify_chain, remembering how many and the newest hash."""

    def __init__(self, events) -> None:
        self.events, self.count, self.last_hash = events, 0, None

    def __iter__(self):
        for event in self.events:
            self.count += 1
            self.last_hash = event.hash
            yield event


@audit_group.command("export")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV file to write (default: standard output).")
def audit_export(out_file: Path | None) -> None:
    """Write the whole audit log as CSV, for the data protection officer."""
    context = cli_context()
    try:
        with context.database.session() as session:
            audit.record(session, "audit.export")
        with context.database.session() as session, \
                (out_file.open("w", newline="", encoding="utf-8") if out_file else _stdout()) as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "at", "actor_id", "action", "project_id", "details", "prev_hash", "hash"])
            for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=500)):
                writer.writerow([event.id, event.at.isoformat(), event.actor_id, event.action, event.project_id,
                                 json.dumps(event.details, sort_keys=True, ensure_ascii=False), event.prev_hash,
                                 event.hash])
    finally:
        context.database.dispose()
    if out_file:
        click.echo(f"Audit log written to {out_file}")


class _stdout:
    def __enter__(self):
        return sys.stdout

    def __exit__(self, *_):
        sys.stdout.flush()


@click.command("register")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("exports/register.md"), show_default=True)
@click.option("--html", "as_html", is_flag=True, help="Write HTML instead of Markdown.")
@click.option("--project", "project_id", type=int, help="Only this project (default: every project).")
def register_command(out_file: Path, as_html: bool, project_id: int | None) -> None:
    """Write the record of processing activities (GDPR Art. 30) from the published forms."""
    context = cli_context()
    try:
        with context.database.session() as session:
            register = processing_register(session, form_purposes(), load_allowlist(), generated_at=utcnow(),
                                           project_id=project_id)
            audit.record(session, "register.write", project_id=project_id, forms=len(register.forms))
    finally:
        context.database.dispose()
    if as_html and out_file.suffix == ".md":
        out_file = out_file.with_suffix(".html")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(register_html(register) if as_html else register_markdown(register), encoding="utf-8")
    click.echo(f"Processing register ({len(register.forms)} form(s)) written to {out_file}")


def form_purposes(source_dir: Path | None = None) -> dict[str, str]:
    """Each form's `purpose` from the form set's manifest (xlsform_src/forms.toml), where one is written."""
    path = (source_dir or default_source_dir()) / MANIFEST_NAME
    if not path.is_file():
        return {}
    forms = tomllib.loads(path.read_text(encoding="utf-8")).get("forms", {})
    return {form_id: entry["purpose"] for form_id, entry in forms.items() if entry.get("purpose")}


@click.group("exports")
def exports_group() -> None:
    """Export files the server wrote."""


@exports_group.command("purge")
def exports_purge() -> None:
    """Delete export files older than SAMEN_EXPORT_TTL_HOURS (default 24)."""
    settings = cli_context().settings
    removed = purge_expired_exports(settings.export_dir, settings.export_ttl_hours)
    click.echo(f"Deleted {len(removed)} export file(s) older than {settings.export_ttl_hours:g} hours "
               f"from {settings.export_dir}.")
