"""Shared test material for the schema, rows and export tests (no tests of its own).

XLSForms are written inline as markdown tables, as pyxform's own tests do,
and compiled with pyxform; instances are written as the XML Collect sends.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pyxform.xls2xform import convert

from samen.exports import WRITERS, ExportOptions
from samen.rows import SubmissionMeta, submission_rows
from samen.schema import FormSchema, merge_schemas, parse_form_schema

SHARED = Path(__file__).resolve().parents[2] / "shared"
BRIEFCASE = SHARED / "fixtures" / "encryption" / "briefcase"

EN, AR, TI = "English (en)", "Arabic (ar)", "Tigrinya (ti)"


def compile_xlsform(markdown: str) -> bytes:
    """An XForm from an XLSForm written as markdown tables."""
    return convert(xlsform=markdown, file_type=".md", form_name="data").xform.encode("utf-8")


def schema_of(markdown: str) -> FormSchema:
    return parse_form_schema(compile_xlsform(markdown))


def meta(instance_id: str, **overrides: object) -> SubmissionMeta:
    values: dict[str, object] = {
        "instance_id": instance_id,
        "submission_date": datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=timezone.utc),
    }
    values.update(overrides)
    return SubmissionMeta(**values)  # type: ignore[arg-type]


INTAKE_SURVEY = """
| survey |
| | type | name | label::English (en) | label::Arabic (ar) | label::Tigrinya (ti) |
| | text | name | Name | الاسم | ስም |
| | begin_group | household | Household | الأسرة | ስድራቤት |
| | integer | size | Household size | حجم الأسرة | ብዝሒ ስድራቤት |
{v2_income}| | select_one yesno | consent | Consent | موافقة | ፍቓድ |
| | begin_repeat | members | Members | الأفراد | ኣባላት |
| | text | member_name | Member name | اسم الفرد | ስም ኣባል |
| | integer | age | Age | العمر | ዕድመ |
| | select_multiple needs | needs | Needs | الاحتياجات | ድሌታት |
| | begin_repeat | visits | Visits | الزيارات | ምብጻሕ |
| | date | visit_date | Visit date | تاريخ الزيارة | ዕለት ምብጻሕ |
| | geopoint | visit_location | Visit location | موقع الزيارة | ቦታ ምብጻሕ |
| | end_repeat | | | | |
| | end_repeat | | | | |
| | end_group | | | | |
| | geopoint | location | Location | الموقع | ቦታ |
| | geotrace | route | Route | المسار | መንገዲ |
| | image | photo | Photo | صورة | ስእሊ |
{v1_note}"""

INTAKE_CHOICES = """
| choices |
| | list_name | name | label::English (en) | label::Arabic (ar) | label::Tigrinya (ti) |
| | yesno | 1 | Yes | نعم | እወ |
| | yesno | 0 | No | لا | ኣይፋል |
| | needs | shelter | Shelter | مأوى | መጽለሊ |
| | needs | medical | Medical care | رعاية طبية | ሕክምና |
{v2_choice}
| settings |
| | form_title | form_id | version | default_language |
| | Intake | intake | {version} | English (en) |
"""


def intake_xlsform(version: int) -> str:
    """Version 1 has `old_note`; version 2 drops it and adds `household/income` and a `legal` need."""
    survey = INTAKE_SURVEY.format(
        v2_income="| | decimal | income | Income | الدخل | ኣታዊ |\n" if version == 2 else "",
        v1_note="| | text | old_note | Note | ملاحظة | መዘኻኸሪ |\n" if version == 1 else "",
    )
    choices = INTAKE_CHOICES.format(
        v2_choice="| | needs | legal | Legal aid | مساعدة قانونية | ሕጋዊ ሓገዝ |" if version == 2 else "",
        version=version,
    )
    return survey + choices


def intake_schema() -> FormSchema:
    """Both versions of the intake form, merged."""
    return merge_schemas([schema_of(intake_xlsform(1)), schema_of(intake_xlsform(2))])


INTAKE_V1_INSTANCE = """<?xml version="1.0"?>
<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" id="intake" version="1">
  <name>Amanuel</name>
  <household>
    <size>3</size>
    <consent>1</consent>
    <members>
      <member_name>Selam</member_name>
      <age>34</age>
      <needs>shelter medical</needs>
      <visits>
        <visit_date>2024-04-02</visit_date>
        <visit_location>52.0907 5.1214 3.5 4.8</visit_location>
      </visits>
      <visits>
        <visit_date>2024-04-09</visit_date>
        <visit_location/>
      </visits>
    </members>
    <members>
      <member_name>سلام, "الصغيرة"</member_name>
      <age>7</age>
      <needs/>
    </members>
  </household>
  <location>52.3676 4.9041 0 12.5</location>
  <route>52.1 5.1 0 0;52.2 5.2 0 0</route>
  <photo>1714566000000.jpg</photo>
  <old_note>ጽቡቕ
second line</old_note>
  <orx:meta>
    <orx:instanceID>uuid:v1-0001</orx:instanceID>
  </orx:meta>
</data>
""".encode("utf-8")

INTAKE_V2_INSTANCE = """<?xml version="1.0"?>
<data xmlns:orx="http://openrosa.org/xforms" id="intake" version="2">
  <name>Hawa</name>
  <household>
    <size>1</size>
    <income>1250.50</income>
    <consent>0</consent>
    <members>
      <member_name>Hawa</member_name>
      <age>29</age>
      <needs>legal</needs>
    </members>
  </household>
  <location/>
  <route/>
  <photo/>
  <orx:meta>
    <orx:instanceID>uuid:v2-0001</orx:instanceID>
  </orx:meta>
</data>
""".encode("utf-8")


def export_bytes(format: str, layout, submissions, options=None, media=()) -> bytes:
    """An export as the HTTP layer would stream it: the writer's chunks, joined."""
    return b"".join(WRITERS[format].iterate(layout, submissions, options or ExportOptions(), media))


def intake_submissions(layout):
    """Version 1 and version 2 submissions and one that could not be decrypted, as rows of `layout`."""
    return [
        submission_rows(layout, INTAKE_V1_INSTANCE, meta("uuid:v1-0001", form_version="1", submitter_id=3)),
        submission_rows(layout, INTAKE_V2_INSTANCE, meta("uuid:v2-0001", form_version="2")),
        submission_rows(layout, None, meta("uuid:locked", status="not decrypted: wrong key")),
    ]
