"""XLSForm → XForm with pyxform, and ODK Validate for any XForm. No storage here."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyxform.errors import PyXFormError
from pyxform.validators.odk_validate import ODKValidateError, check_xform
from pyxform.xls2xform import convert

from samen.problems import InvalidFormError

XLSFORM_TYPES = {"xlsx": ".xlsx", "xls": ".xls", "md": ".md", "csv": ".csv"}  # pyxform names them with the dot
XLSFORM_CONTENT_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
}


@dataclass(frozen=True)
class ConvertedForm:
    xml: bytes
    warnings: tuple[str, ...]
    itemsets_csv: bytes | None  # external_choices, served to phones as itemsets.csv


def convert_xlsform(data: bytes, file_type: str, form_id_fallback: str | None = None) -> ConvertedForm:
    """Convert and validate; pyxform's messages name the sheet and row, and are passed on as they are."""
    warnings: list[str] = []
    try:
        result = convert(
            xlsform=io.BytesIO(data), file_type=file_type, warnings=warnings, validate=True,
            form_name=form_id_fallback,
        )
    except PyXFormError as error:
        raise InvalidFormError(f"The XLSForm has an error: {error}", error=str(error)) from error
    except ODKValidateError as error:
        raise InvalidFormError(f"ODK Validate rejected the form: {_validate_summary(error)}", error=str(error)) from error
    itemsets = result.itemsets.encode("utf-8") if result.itemsets else None
    return ConvertedForm(xml=result.xform.encode("utf-8"), warnings=tuple(dict.fromkeys(warnings + list(result.warnings))),
                         itemsets_csv=itemsets)


def validate_xform(xml: bytes) -> tuple[str, ...]:
    """Run ODK Validate (the same Java validator Collect's engine is built on); returns its warnings."""
    with tempfile.TemporaryDirectory(prefix="samen-validate-") as folder:
        path = Path(folder) / "form.xml"
        path.write_bytes(xml)
        try:
            return tuple(check_xform(str(path)))
        except ODKValidateError as error:
            raise InvalidFormError(f"ODK Validate rejected the form: {_validate_summary(error)}", error=str(error)) from error


def _validate_summary(error: ODKValidateError) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:6])
