"""`samen entities …`: the queue of encrypted submissions whose entity changes wait for a key."""

from __future__ import annotations

import sys

import click

from samen import keyring
from samen.cli.context import cli_context, read_secret
from samen.decrypting import KeyChain
from samen.entities import intake as entity_intake
from samen.problems import Problem
from samen.queries import get_project


@click.group("entities")
def entities_group() -> None:
    """Entity lists (participants) built from submissions."""


@entities_group.command("queue")
@click.option("--project", "project_id", required=True, type=int)
def entities_queue(project_id: int) -> None:
    """How many encrypted submissions wait for an unlocked key."""
    context = cli_context()
    try:
        with context.database.session() as session:
            get_project(session, project_id)
            click.echo(f"{entity_intake.pending_count(session, project_id)} submission(s) waiting for project {project_id}.")
    except Problem as problem:
        raise click.ClickException(problem.message) from None


@entities_group.command("process")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--passphrase-stdin", is_flag=True, help="Read a custodian's passphrase from standard input.")
def entities_process(project_id: int, passphrase_stdin: bool) -> None:
    """Unlock the project key with a custodian's passphrase and apply the waiting entity changes."""
    # Standard input, not an option: a passphrase on the command line ends up in shell history and `ps`.
    passphrase = sys.stdin.readline().rstrip("\r\n") if passphrase_stdin else read_secret("Passphrase")
    context = cli_context()
    try:
        with context.database.session() as session:
            get_project(session, project_id)
            keys = keyring.unlock_with_passphrase(session, project_id, passphrase)
        result = entity_intake.process_pending(context.database, context.blobs, project_id,
                                               KeyChain(keys.values()), actor_id=None)
    except Problem as problem:
        raise click.ClickException(problem.message) from None
    click.echo(f"Applied {result.applied} submission(s); {result.waiting} still waiting.")
