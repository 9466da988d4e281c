"""`samen forms …`: build, check and lint the XLSForm sources in xlsform_src/."""

from __future__ import annotations

from pathlib import Path

import click

from samen.formlint import IdentifierFinding
from samen.formset import (
    FormSetError,
    build_form_set,
    load_allowlist,
    load_form_sources,
    stale_outputs,
    write_outputs,
    write_staff_workbook,
)

_src_option = click.option(
    "--src", "source_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("xlsform_src"),
    show_default=True, help="Folder with forms.toml and the XLSForm sources.",
)


@click.group("forms")
def forms_group() -> None:
    """Build and check SAMEN's XLSForm sources."""


@forms_group.command("build")
@_src_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("forms"),
              show_default=True, help="Folder for the compiled XForms.")
@click.option("--check", is_flag=True, help="Write nothing; fail when the compiled forms are out of date.")
@click.option("--no-validate", is_flag=True, help="Skip ODK Validate (Java) for a quick local compile.")
def build_command(source_dir: Path, out_dir: Path, check: bool, no_validate: bool) -> None:
    """Compile every source to <out>/<form_id>.xml, validate it and lint it for direct identifiers."""
    try:
        sources = load_form_sources(source_dir)
        result = build_form_set(sources, load_allowlist(source_dir), validate=not no_validate)
    except (FormSetError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    for form in result.compiled:
        for warning in form.warnings:
            click.echo(f"warning: {form.source.form_id}: {warning}", err=True)
    _fail_on_findings(result.findings)
    if check:
        stale = stale_outputs(result.outputs(), out_dir)
        if stale:
            raise click.ClickException(
                f"{out_dir} is out of date ({', '.join(stale)}). Run `samen forms build` and commit the result."
            )
        click.echo(f"{len(result.compiled)} forms up to date in {out_dir}.")
        return
    touched = write_outputs(result.outputs(), out_dir)
    click.echo(f"Built {len(result.compiled)} forms into {out_dir}; {len(touched)} file(s) changed.")


@forms_group.command("xlsx")
@_src_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build/xlsform"),
              show_default=True, help="Folder for the .xlsx copies (git-ignored).")
def xlsx_command(source_dir: Path, out_dir: Path) -> None:
    """Write an .xlsx copy of every source for staff to read or edit in Excel."""
    try:
        paths = [write_staff_workbook(source, out_dir) for source in load_form_sources(source_dir)]
    except FormSetError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Wrote {len(paths)} workbooks into {out_dir}.")


@forms_group.command("lint")
@_src_option
def lint_command(source_dir: Path) -> None:
    """Fail on any field that asks for a direct identifier (names, phone, address, BSN, date of birth, location)."""
    from samen.formlint import lint_xlsform_source

    try:
        sources = load_form_sources(source_dir)
        allowlist = load_allowlist(source_dir)
        findings = [finding for source in sources for finding in lint_xlsform_source(source.path, allowlist)]
    except (FormSetError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    _fail_on_findings(findings)
    click.echo(f"{len(sources)} forms ask for no direct identifier.")


def _fail_on_findings(findings: list[IdentifierFinding] | tuple[IdentifierFinding, ...]) -> None:
    if findings:
        for finding in findings:
            click.echo(finding.message, err=True)
        raise click.ClickException(f"{len(findings)} field(s) ask for a direct identifier.")
