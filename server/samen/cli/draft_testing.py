"""`samen form draft-qr`: the QR code that sets Collect up to test a form's draft before it is published."""

from __future__ import annotations

from pathlib import Path

import click

from samen.cli.context import cli_context
from samen.cli.core import collect_base_url, echo_collect_setup, fail
from samen.collect_settings import draft_testing_server_url, draft_testing_settings
from samen.models import FormVersion
from samen.problems import Problem
from samen.queries import get_form


@click.command("draft-qr")
@click.option("--project", "project_id", required=True, type=int)
@click.option("--qr", "qr_file", type=click.Path(dir_okay=False, path_type=Path), help="Also write the QR code as PNG.")
@click.argument("xml_form_id")
def draft_qr_command(project_id: int, qr_file: Path | None, xml_form_id: str) -> None:
    """Print the server URL and QR code that let Collect test the form's draft.

    Test submissions are kept apart from the real data. The code stops working,
    and the test submissions are deleted, when the draft is published or deleted.
    """
    context = cli_context()
    try:
        with context.database.session() as session:
            form = get_form(session, project_id, xml_form_id)
            draft = session.get(FormVersion, form.draft_version_id) if form.draft_version_id else None
            if draft is None or draft.draft_token is None:
                raise click.ClickException(f"The form '{xml_form_id}' has no draft to test. Upload a new definition "
                                           "as a draft first (console, or POST …/draft).")
            url = draft_testing_server_url(collect_base_url(), project_id, form.xml_form_id, draft.draft_token)
            name = f"[Draft] {draft.title or form.name or form.xml_form_id}"
    except Problem as problem:
        fail(problem)
    echo_collect_setup(url, draft_testing_settings(url, name), qr_file)
