"""The `samen` command: a thin click layer over the library."""

from __future__ import annotations

import click

from samen.cli.core import app_user_group, form_group, init_command, project_group, serve_command, user_group
from samen.cli.decrypt import decrypt_command
from samen.cli.draft_testing import draft_qr_command
from samen.cli.entities import entities_group
from samen.cli.export import export_command
from samen.cli.forms import forms_group
from samen.cli.keys import key_group
from samen.cli.privacy import audit_group, erase_command, exports_group, register_command, retention_group
from samen.cli.report import report_command


@click.group()
@click.version_option(package_name="samen-forms")
def main() -> None:
    """SAMEN Forms: ODK-compatible, end-to-end-encrypted intake and surveys."""


COMMANDS = (
    init_command, serve_command, user_group, project_group, form_group, app_user_group, key_group, decrypt_command,
    export_command, entities_group, forms_group, report_command, retention_group, erase_command, audit_group,
    register_command, exports_group,
)
for command in COMMANDS:
    main.add_command(command)
form_group.add_command(draft_qr_command)  # `samen form draft-qr`
