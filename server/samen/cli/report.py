"""`samen report`: the M&E report of a project as HTML, PDF and CSV tables, from its encrypted data."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from samen import keyring
from samen.cli.context import cli_context, read_secret
from samen.problems import Problem
from samen.report import DEFAULT_THRESHOLD, Period, build_report, write_report


@click.command("report")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the period, included.")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@click.option("--threshold", type=click.IntRange(min=1), default=DEFAULT_THRESHOLD, show_default=True,
              help="Counts below this are shown as '<threshold'.")
@click.option("--passphrase-stdin", is_flag=True, help="Read a custodian's passphrase from standard input.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("exports"),
              show_default=True)
def report_command(project_id: int, start: datetime | None, end: datetime | None, lang: str, threshold: int,
                   passphrase_stdin: bool, out_dir: Path) -> None:
    """Write the report (HTML, PDF, one CSV per table) after unlocking the project key with a passphrase."""
    if start and end and start > end:
        raise click.UsageError("--from must not be after --to.")
    # Standard input, not an option: a passphrase on the command line ends up in shell history and `ps`.
    passphrase = sys.stdin.readline().rstrip("\r\n") if passphrase_stdin else read_secret("Passphrase")
    period = Period(start.date() if start else None, end.date() if end else None)
    context = cli_context()
    try:
        with context.database.session() as session:
            keys = keyring.unlock_with_passphrase(session, project_id, passphrase)
            report = build_report(session, context.blobs, project_id, keys, period, lang, threshold)
    except Problem as problem:
        raise click.ClickException(problem.message) from None
    for path in write_report(report, out_dir):
        click.echo(path)
