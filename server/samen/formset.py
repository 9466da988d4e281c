"""SAMEN's form set: which sources exist, how they compile, and which are encrypted.

`xlsform_src/forms.toml` is the manifest: one table per form id with its
markdown source, its declared languages and whether the publish step must
encrypt it. The markdown sources are the source of truth (pyxform reads them
directly); `forms/<form_id>.xml` is their compiled, validated output and is
checked in, so `build --check` compares bytes and the build must be
deterministic.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from samen.formlint import IdentifierAllowlist, IdentifierFinding, lint_xform

MANIFEST_NAME = "forms.toml"
ALLOWLIST_NAME = "identifier-allowlist.csv"


class FormSetError(Exception):
    """The form set cannot be built: a broken manifest, source or validation."""


@dataclass(frozen=True)
class FormSource:
    """One form of the set, as the manifest declares it."""

    form_id: str
    path: Path
    languages: tuple[str, ...]
    encrypted: bool

    @property
    def output_name(self) -> str:
        return f"{self.form_id}.xml"


@dataclass(frozen=True)
class CompiledForm:
    source: FormSource
    xform: bytes
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class BuildResult:
    compiled: tuple[CompiledForm, ...]
    findings: tuple[IdentifierFinding, ...]

    def outputs(self) -> dict[str, bytes]:
        return {form.source.output_name: form.xform for form in self.compiled}


def repository_root() -> Path:
    """The checkout this package was installed from (server/samen/formset.py → repository)."""
    return Path(__file__).resolve().parents[2]


def default_source_dir() -> Path:
    return repository_root() / "xlsform_src"


def load_form_sources(source_dir: Path | None = None) -> list[FormSource]:
    """The forms declared in `forms.toml`, in manifest order."""
    source_dir = source_dir or default_source_dir()
    manifest_path = source_dir / MANIFEST_NAME
    try:
        manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormSetError(f"No form manifest at {manifest_path}.") from None
    except tomllib.TOMLDecodeError as error:
        raise FormSetError(f"{manifest_path} is not valid TOML: {error}.") from None
    sources = []
    for form_id, entry in manifest.get("forms", {}).items():
        missing = {"source", "languages", "encrypted"} - entry.keys()
        if missing:
            raise FormSetError(f"{manifest_path}: form {form_id} lacks {', '.join(sorted(missing))}.")
        sources.append(FormSource(form_id, source_dir / entry["source"], tuple(entry["languages"]), bool(entry["encrypted"])))
    if not sources:
        raise FormSetError(f"{manifest_path} declares no forms.")
    return sources


def encrypted_form_ids(source_dir: Path | None = None) -> set[str]:
    """Form ids the publish step must encrypt with the project's public key."""
    return {source.form_id for source in load_form_sources(source_dir) if source.encrypted}


def load_allowlist(source_dir: Path | None = None) -> IdentifierAllowlist:
    return IdentifierAllowlist.load((source_dir or default_source_dir()) / ALLOWLIST_NAME)


def compile_form(source: FormSource, validate: bool = True) -> CompiledForm:
    """Compile one source with pyxform (and ODK Validate); the XForm's id must match the manifest."""
    from pyxform.errors import PyXFormError
    from pyxform.validators.odk_validate import ODKValidateError
    from pyxform.xls2xform import convert

    try:
        result = convert(str(source.path), validate=validate, pretty_print=True)
    except (PyXFormError, ODKValidateError) as error:
        raise FormSetError(f"{source.path.name}: {error}") from None
    xform = result.xform if result.xform.endswith("\n") else result.xform + "\n"
    compiled_id = result._survey.id_string if result._survey is not None else None
    if compiled_id != source.form_id:
        raise FormSetError(f"{source.path.name} compiles to form id {compiled_id!r}, but forms.toml lists it as {source.form_id!r}.")
    return CompiledForm(source, xform.encode("utf-8"), tuple(result.warnings))


def build_form_set(sources: Iterable[FormSource], allowlist: IdentifierAllowlist, validate: bool = True) -> BuildResult:
    """Compile every source and lint the compiled XForms for direct identifiers."""
    compiled = tuple(compile_form(source, validate) for source in sources)
    findings = tuple(finding for form in compiled for finding in lint_xform(form.xform, allowlist))
    return BuildResult(compiled, findings)


def write_staff_workbook(source: FormSource, destination: Path) -> Path:
    """Write the .xlsx that staff open in Excel; the markdown source stays the source of truth."""
    from pyxform.xls2json_backends import md_table_to_workbook

    destination.mkdir(parents=True, exist_ok=True)
    path = destination / f"{source.form_id}.xlsx"
    md_table_to_workbook(source.path.read_text(encoding="utf-8")).save(path)
    return path


def stale_outputs(outputs: dict[str, bytes], out_dir: Path) -> list[str]:
    """Output files that are missing, differ from a fresh build, or belong to no source."""
    stale = [name for name, data in sorted(outputs.items()) if _read(out_dir / name) != data]
    orphans = sorted(path.name for path in out_dir.glob("*.xml") if path.name not in outputs)
    return stale + orphans


def write_outputs(outputs: dict[str, bytes], out_dir: Path) -> list[str]:
    """Write changed outputs, remove orphaned XForms, and return the names touched."""
    out_dir.mkdir(parents=True, exist_ok=True)
    touched = stale_outputs(outputs, out_dir)
    for name in touched:
        if name in outputs:
            (out_dir / name).write_bytes(outputs[name])
        else:
            (out_dir / name).unlink()
    return touched


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
