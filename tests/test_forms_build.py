"""`samen forms build`: every source compiles and passes ODK Validate; the build is deterministic."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from samen.cli.forms import forms_group
from samen.formset import (
    FormSetError,
    build_form_set,
    compile_form,
    default_source_dir,
    encrypted_form_ids,
    load_allowlist,
    load_form_sources,
    repository_root,
)

FORM_IDS = {
    "samen_intake", "samen_session_feedback", "samen_prepost_participant", "samen_prepost_professional",
    "samen_ambassador_activity", "samen_referral_followup",
}


@pytest.fixture(scope="module")
def validated_build():
    """One build with ODK Validate (Java) for the whole module: about a second per form."""
    return build_form_set(load_form_sources(), load_allowlist(), validate=True)


def test_manifest_lists_the_six_forms() -> None:
    assert {source.form_id for source in load_form_sources()} == FORM_IDS


def test_every_form_compiles_and_validates_without_warnings(validated_build) -> None:
    assert {form.source.form_id for form in validated_build.compiled} == FORM_IDS
    for form in validated_build.compiled:
        assert form.warnings == (), form.source.form_id
        assert f'id="{form.source.form_id}"'.encode() in form.xform
    assert validated_build.findings == ()


def test_committed_forms_are_up_to_date(validated_build) -> None:
    out_dir = repository_root() / "forms"
    for name, data in validated_build.outputs().items():
        assert (out_dir / name).read_bytes() == data, f"forms/{name} is stale: run `samen forms build`"


def test_build_is_deterministic() -> None:
    source = load_form_sources()[0]
    assert compile_form(source, validate=False).xform == compile_form(source, validate=False).xform


def test_every_form_but_the_activity_log_is_encrypted() -> None:
    assert encrypted_form_ids() == FORM_IDS - {"samen_ambassador_activity"}


def test_build_then_check_and_detect_stale_or_orphaned_outputs(tmp_path: Path) -> None:
    runner = CliRunner()
    source_dir, out_dir = default_source_dir(), tmp_path / "forms"
    common = ["--src", str(source_dir), "--out", str(out_dir), "--no-validate"]
    assert runner.invoke(forms_group, ["build", "--check", *common]).exit_code == 1  # nothing built yet

    built = runner.invoke(forms_group, ["build", *common])
    assert built.exit_code == 0, built.output
    assert sorted(path.name for path in out_dir.iterdir()) == sorted(f"{form_id}.xml" for form_id in FORM_IDS)
    assert runner.invoke(forms_group, ["build", "--check", *common]).exit_code == 0

    intake = out_dir / "samen_intake.xml"
    intake.write_bytes(intake.read_bytes().replace(b"Welkom", b"Welcome"))
    stale = runner.invoke(forms_group, ["build", "--check", *common])
    assert stale.exit_code == 1 and "samen_intake.xml" in stale.output

    runner.invoke(forms_group, ["build", *common])
    (out_dir / "old_form.xml").write_text("<h:html/>")
    orphan = runner.invoke(forms_group, ["build", "--check", *common])
    assert orphan.exit_code == 1 and "old_form.xml" in orphan.output
    runner.invoke(forms_group, ["build", *common])
    assert not (out_dir / "old_form.xml").exists()


def test_manifest_form_id_must_match_the_source(tmp_path: Path) -> None:
    shutil.copy(default_source_dir() / "samen_intake.md", tmp_path / "samen_intake.md")
    (tmp_path / "forms.toml").write_text(
        '[forms.other_id]\nsource = "samen_intake.md"\nlanguages = ["nl"]\nencrypted = true\n', encoding="utf-8")
    with pytest.raises(FormSetError, match="other_id"):
        compile_form(load_form_sources(tmp_path)[0], validate=False)


def test_build_fails_on_a_planted_identifier(tmp_path: Path) -> None:
    (tmp_path / "forms.toml").write_text(
        '[forms.planted]\nsource = "planted.md"\nlanguages = ["en"]\nencrypted = true\n', encoding="utf-8")
    (tmp_path / "planted.md").write_text(
        "| survey |\n|  | type | name | label |\n|  | date | birth_date | Birthday |\n"
        "| settings |\n|  | form_id | version |\n|  | planted | 1 |\n", encoding="utf-8")
    result = CliRunner().invoke(forms_group, ["build", "--src", str(tmp_path), "--out", str(tmp_path / "out"), "--no-validate"])
    assert result.exit_code == 1 and "date of birth" in result.output
    assert not (tmp_path / "out").exists()


def test_staff_workbooks_compile_to_the_same_xform(tmp_path: Path) -> None:
    from pyxform.xls2xform import convert

    result = CliRunner().invoke(forms_group, ["xlsx", "--src", str(default_source_dir()), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for source in load_form_sources():
        workbook = tmp_path / f"{source.form_id}.xlsx"
        assert convert(str(workbook)).xform == convert(str(source.path)).xform, source.form_id
