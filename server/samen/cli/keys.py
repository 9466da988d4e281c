"""`samen key …`: project keys, their custodians, import, rotation and an offline copy."""

from __future__ import annotations

import json
from pathlib import Path

import click

from samen import audit, keyring
from samen.cli.context import cli_context, read_secret
from samen.crypto.keys import import_central_managed_key, load_private_key_pem, private_key_pem
from samen.problems import Problem
from samen.publishing import republish_encrypted_forms
from samen.queries import get_project


@click.group("key")
def key_group() -> None:
    """Project keys: encryption of submissions on the phone."""


def _run(work):
    context = cli_context()
    try:
        with context.database.session() as session:
            return work(session, context)
    except Problem as problem:
        raise click.ClickException(problem.message) from None


@key_group.command("create")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--custodian", default="custodian 1", show_default=True, help="Who holds this passphrase.")
@click.option("--hint", help="A reminder of the passphrase (stored in the clear: never the passphrase itself).")
def key_create(project_id: int, custodian: str, hint: str | None) -> None:
    """Generate the project's RSA-2048 key; forms published from now on are encrypted."""
    passphrase = read_secret("Passphrase", confirm=True)

    def work(session, context):
        project = get_project(session, project_id)
        key = keyring.create_key(session, project, passphrase, custodian=custodian, hint=hint)
        republished = republish_encrypted_forms(session, context.blobs, project)
        click.echo(f"Key {key.id} created for project {project_id}; {len(republished)} form(s) republished encrypted.")

    _run(work)


@key_group.command("import")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--custodian", default="custodian 1", show_default=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def key_import(project_id: int, custodian: str, file: Path) -> None:
    """Import a PEM private key (PKCS#1 or PKCS#8) or an ODK Central managed-key archive (JSON)."""
    data = file.read_bytes()
    try:
        if data.lstrip().startswith(b"{"):
            private_key = import_central_managed_key(json.loads(data), read_secret("The archive's passphrase"))
        else:
            private_key = load_private_key_pem(data)
    except Problem as problem:
        raise click.ClickException(problem.message) from None
    passphrase = read_secret("New passphrase for this server", confirm=True)

    def work(session, context):
        project = get_project(session, project_id)
        key = keyring.create_key(session, project, passphrase, custodian=custodian, private_key=private_key, source="import")
        republish_encrypted_forms(session, context.blobs, project)
        click.echo(f"Key {key.id} imported for project {project_id}.")

    _run(work)


@key_group.command("add-custodian")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--custodian", required=True, help="Name of the new custodian.")
def key_add_custodian(project_id: int, custodian: str) -> None:
    """Add a passphrase slot: first an existing custodian's passphrase, then the new one (twice)."""
    existing = read_secret("An existing custodian's passphrase")
    new = read_secret(f"New passphrase for {custodian}", confirm=True)

    def work(session, context):
        opened = keyring.unlock_with_passphrase(session, project_id, existing)
        for key_id, private_key in opened.items():
            key = session.get(keyring.ProjectKey, key_id)
            keyring.add_custodian(session, key, private_key, new, custodian)
        click.echo(f"{custodian} can now unlock {len(opened)} key(s) of project {project_id}.")

    _run(work)


@key_group.command("remove-custodian")
@click.option("--project", "project_id", required=True, type=int)
@click.argument("slot_id", type=int)
def key_remove_custodian(project_id: int, slot_id: int) -> None:
    """Remove a custodian's slot (never the last one)."""
    _run(lambda session, context: keyring.remove_custodian(session, slot_id))
    click.echo(f"Removed slot {slot_id}.")


@key_group.command("list")
@click.option("--project", "project_id", required=True, type=int)
def key_list(project_id: int) -> None:
    """Keys and their custodians."""

    def work(session, context):
        get_project(session, project_id)
        for key in keyring.project_keys(session, project_id):
            state = f"retired {key.retired_at:%Y-%m-%d}" if key.retired_at else "active"
            click.echo(f"key {key.id} ({state}, {key.source}, created {key.created_at:%Y-%m-%d})")
            for slot in keyring.custodians(session, key.id):
                click.echo(f"  slot {slot.id}: {slot.custodian}")

    _run(work)


@key_group.command("rotate")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--custodian", default="custodian 1", show_default=True)
def key_rotate(project_id: int, custodian: str) -> None:
    """A new key for future form versions; everything received so far stays decryptable with the old one."""
    passphrase = read_secret("Passphrase for the new key", confirm=True)

    def work(session, context):
        project = get_project(session, project_id)
        key = keyring.rotate_key(session, project, passphrase, custodian=custodian)
        republished = republish_encrypted_forms(session, context.blobs, project)
        click.echo(f"Key {key.id} is now active; {len(republished)} form(s) republished with it.")

    _run(work)


@key_group.command("export-pem")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def key_export_pem(project_id: int, out: Path) -> None:
    """Write the unlocked private key(s) as PEM, for a custodian's offline copy."""
    passphrase = read_secret("Passphrase")

    def work(session, context):
        opened = keyring.unlock_with_passphrase(session, project_id, passphrase)
        audit.record(session, "key.export", project_id=project_id, keyIds=sorted(opened))
        return opened

    opened = _run(work)
    for key_id, private_key in opened.items():
        target = out if len(opened) == 1 else out.with_name(f"{out.stem}-key{key_id}{out.suffix}")
        target.touch(mode=0o600)
        target.write_bytes(private_key_pem(private_key))
        click.echo(f"Wrote key {key_id} to {target}.")
    click.secho("Warning: this file opens every submission encrypted with the key. Keep it offline, "
                "encrypted and away from this server.", fg="yellow", err=True)
