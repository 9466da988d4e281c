"""`samen export`: one form's submissions to a CSV zip, XLSX, SPSS or JSON Lines file, decrypting on the way."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from samen import keyring
from samen.cli.context import cli_context, read_secret
from samen.crypto.keys import load_private_key_pem
from samen.decrypting import KeyChain
from samen.export_service import ExportRequest, ExportSummary, FormExport, is_encrypted, prepare_export, write_kept_export
from samen.exports import WRITERS
from samen.problems import Problem
from samen.protect import Protection, ProtectionError
from samen.queries import get_form

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


@click.command("export")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--form", "xml_form_id", required=True, help="The form id (xmlFormId).")
@click.option("--format", "export_format", type=click.Choice(list(WRITERS)), default="csv", show_default=True)
@click.option("--lang", help="Label language for --labels and SPSS labels, e.g. 'Nederlands (nl)'; default: the form's.")
@click.option("--labels", is_flag=True, help="XLSX: question and choice labels instead of names and values.")
@click.option("--since", type=click.DateTime(_DATE_FORMATS), help="Only submissions received on or after (UTC).")
@click.option("--until", type=click.DateTime(_DATE_FORMATS), help="Only submissions received up to this day (UTC).")
@click.option("--split-select-multiples", is_flag=True, help="One 0/1 column per choice of a select_multiple.")
@click.option("--no-group-paths", is_flag=True, help="Column names without their group path.")
@click.option("--media", is_flag=True, help="CSV: include the submissions' media files in the zip.")
@click.option("--passphrase-stdin", is_flag=True,
              help="Read a custodian's passphrase from standard input (or the --key PEM's passphrase).")
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Decrypt with this private key (PEM) instead of the project key on the server.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the export (default: the configured export folder, exports/).")
@click.option("--protect-password-stdin", is_flag=True,
              help="Protect the file with a password read from standard input (after the passphrase): "
                   "XLSX opens in Excel, other formats become an AES-256 zip (7-Zip).")
@click.option("--age-recipient", "age_recipients", multiple=True,
              help="Encrypt the file to this age public key (age1…); repeat for several recipients.")
def export_command(project_id: int, xml_form_id: str, export_format: str, lang: str | None, labels: bool,
                   since: datetime | None, until: datetime | None, split_select_multiples: bool, no_group_paths: bool,
                   media: bool, passphrase_stdin: bool, key_file: Path | None, out_dir: Path | None,
                   protect_password_stdin: bool, age_recipients: tuple[str, ...]) -> None:
    """Export one form's submissions, every published version merged, in received order.

    Encrypted forms need --passphrase-stdin (a custodian's passphrase) or --key.
    Submissions that cannot be read are exported with their reason in the
    Status column (and in problems.csv in a CSV zip); the export completes.
    """
    context = cli_context()
    # Standard input, never an option: a passphrase on the command line ends up in shell history and `ps`.
    passphrase = read_secret("Passphrase") if passphrase_stdin else None
    request = ExportRequest(
        format=export_format, language=lang, labels=labels, since=_utc(since),
        until=_until_bound(until),
        group_paths=not no_group_paths, split_select_multiples=split_select_multiples, with_media=media,
    )
    try:
        protection = Protection(read_secret("Password for the export file", confirm=True) if protect_password_stdin
                                else None, age_recipients)
        keys = _key_chain(context, project_id, xml_form_id, passphrase, key_file)
        export = prepare_export(context.database, context.blobs, project_id, xml_form_id, request, keys,
                                actor_id=None, purpose="export (command line)")
        summary = _run(export, out_dir or context.settings.export_dir, protection, context.settings.export_ttl_hours)
    except (Problem, ProtectionError) as problem:
        raise click.ClickException(str(problem)) from None
    finally:
        context.database.dispose()
    Console().print(_summary_table(summary))
    if summary.problems:
        click.echo(f"{summary.problems} submission(s) could not be read: see the Status column"
                   f"{' and problems.csv' if export_format == 'csv' else ''}.", err=True)


def _key_chain(context, project_id: int, xml_form_id: str, passphrase: str | None, key_file: Path | None) -> KeyChain:
    if key_file is not None:
        return KeyChain([load_private_key_pem(key_file.read_bytes(), passphrase.encode() if passphrase else None)])
    with context.database.session() as session:
        if passphrase is not None:
            return KeyChain(keyring.unlock_with_passphrase(session, project_id, passphrase).values())
        if is_encrypted(session, get_form(session, project_id, xml_form_id)):
            raise click.UsageError("This form is encrypted: give --passphrase-stdin (a custodian's passphrase) or --key.")
    return KeyChain()


def _run(export: FormExport, out_dir: Path, protection: Protection, ttl_hours: float) -> ExportSummary:
    console = Console(stderr=True)
    if not console.is_terminal:
        return write_kept_export(export, out_dir, protection, ttl_hours)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"Exporting {export.form.xml_form_id}", total=export.total)
        return write_kept_export(export, out_dir, protection, ttl_hours, lambda done: progress.advance(task, done))


def _summary_table(summary: ExportSummary) -> Table:
    table = Table(title="Export", show_header=False)
    table.add_column("What", style="bold")
    table.add_column("Value", overflow="fold")
    table.add_row("Submissions", str(summary.rows))
    table.add_row("Decrypted", str(summary.decrypted))
    table.add_row("Problems", f"[yellow]{summary.problems}[/]" if summary.problems else "0")
    table.add_row("File", str(summary.path))
    table.add_row("Seconds", f"{summary.seconds:.1f}")
    return table


def _until_bound(until: datetime | None) -> datetime | None:
    """--until 2024-05-31 includes that whole day; a time of day is an exact (exclusive) bound."""
    if until is not None and until.time() == datetime.min.time():
        until += timedelta(days=1)
    return _utc(until)


def _utc(moment: datetime | None) -> datetime | None:
    """Dates on the command line are UTC unless they say otherwise."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
