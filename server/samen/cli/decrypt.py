"""`samen decrypt`: decrypt exported or Briefcase-pulled submissions offline with the project's private key."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from samen.crypto.decrypt import submission_decryptor
from samen.crypto.keys import load_private_key_pem
from samen.crypto.offline import FolderResult, decrypt_folder
from samen.problems import Problem

_STATUS_LABELS = {
    "ok": "[green]ok[/]",
    "signature_invalid": "[yellow]signature invalid[/]",
    "media_missing": "[yellow]media missing[/]",
    "failed": "[red]failed[/]",
}


@click.command("decrypt")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The project's private key as PEM (PKCS#1 or PKCS#8), e.g. from `samen key export-pem`.",
)
@click.option("--passphrase-stdin", is_flag=True, help="The PEM is encrypted: read its passphrase from standard input.")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def decrypt_command(key_file: Path, passphrase_stdin: bool, source: Path, out: Path) -> None:
    """Decrypt SOURCE (one folder per submission: submission.xml and its .enc files) into OUT.

    Each submission that decrypts gets a folder of the same name in OUT with
    its submission.xml and media. Damaged or incomplete submissions are
    reported, decrypted as far as possible, and never stop the others. Exits with status 1 when any
    submission is not "ok".
    """
    # Standard input, not an option: a passphrase on the command line ends up in shell history and `ps`.
    passphrase = sys.stdin.readline().rstrip("\r\n").encode() if passphrase_stdin else None
    try:
        decryptor = submission_decryptor(load_private_key_pem(key_file.read_bytes(), passphrase))
    except Problem as problem:
        raise click.ClickException(problem.message) from None
    results = decrypt_folder(source, out, decryptor)
    if not results:
        raise click.ClickException(f"{source} has no submission folders: expected one folder per submission.")
    Console().print(_summary_table(results, out))
    if any(result.status != "ok" for result in results):
        raise SystemExit(1)


def _summary_table(results: list[FolderResult], out: Path) -> Table:
    counts = {status: sum(result.status == status for result in results) for status in _STATUS_LABELS}
    caption = ", ".join(f"{count} {status.replace('_', ' ')}" for status, count in counts.items() if count)
    table = Table(title=f"Decrypted into {out}", caption=caption)
    table.add_column("Folder", overflow="fold")
    table.add_column("Instance ID", overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Details", ratio=1)
    for result in results:
        table.add_row(result.folder, result.instance_id or "", _STATUS_LABELS[result.status], result.reason)
    return table
