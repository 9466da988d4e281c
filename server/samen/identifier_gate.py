"""The publish gate: a form that asks for a direct identifier is not published.

`publishing.prepare_definition` calls `refuse_direct_identifiers` for every
upload, so the CLI, the API and the console all pass through it. The rules
are the form linter's (`samen.formlint`); the reviewed exceptions are the
form set's allow-list (`xlsform_src/identifier-allowlist.csv`), where every
line must give a reason.
"""

from __future__ import annotations

from samen.formlint import IdentifierAllowlist, lint_xform
from samen.formset import load_allowlist
from samen.problems import InvalidFormError


def refuse_direct_identifiers(xform: bytes, allowlist: IdentifierAllowlist | None = None) -> None:
    """Raise InvalidFormError naming each field that asks for a direct identifier and is not allow-listed."""
    # Read on every publish (a small file): an allow-list edit takes effect without a restart.
    findings = lint_xform(xform, load_allowlist() if allowlist is None else allowlist)
    if findings:
        raise InvalidFormError(
            "This form asks for a direct identifier, which SAMEN's forms must not collect. " +
            " ".join(finding.message for finding in findings),
            fields=[{"field": f.field_path, "category": f.category, "reason": f.reason} for f in findings],
        )
