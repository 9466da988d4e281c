"""The record of processing activities (GDPR Art. 30), derived from what is actually published.

`processing_register(session, purposes, allowlist)` gathers, per published
form: its purpose, the categories of data its fields collect, whether
submissions are encrypted, the retention period, the custodians who can
decrypt, and where data goes (exports made, referral partners the form asks
consent to share with, entity lists phones carry). `register_markdown` and
`register_html` render it (pure). A gap — no purpose, no retention period —
is written as a gap, not papered over: the register is for the data
protection officer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from samen.erasure import PARTICIPANT_CODE_FIELDS
from samen.formlint import IdentifierAllowlist
from samen.keyring import custodians
from samen.models import AuditEvent, Form, FormVersion, Project
from samen.retention import form_retention_days
from samen.safexml import local_name, parse_xml
from samen.schema import parse_form_schema
from samen.xform import read_xform

# Field names → what they reveal, first match wins. Special categories (Art. 9) say so.
_NAMED_CATEGORIES: tuple[tuple[str, str], ...] = (
    (r"gender|lgbt|sexual", "gender identity and sexual orientation (special category, Art. 9)"),
    (r"origin|nationality|ethnic|country", "region of origin (can reveal ethnic origin: special category, Art. 9)"),
    (r"need|wellbeing|who5|health|medical|psych", "health, wellbeing and support needs (special category, Art. 9)"),
    (r"risk|safe", "safety situation"),
    (r"referral|consent_share|partner", "referrals and consent to share with partners"),
    (r"consent", "consent given or refused"),
    (r"city|region|municipality", "city"),
    (r"age", "age band"),
    (r"language", "preferred language"),
    (r"sector|profession|role", "professional sector"),
)
_TYPE_CATEGORIES = {
    "geopoint": "location (GPS)", "geotrace": "location (GPS)", "geoshape": "location (GPS)",
    "binary": "photos, audio or other files", "date": "dates", "dateTime": "dates and times",
    "select1": "answers to closed questions", "select": "answers to closed questions",
    "int": "numbers", "integer": "numbers", "decimal": "numbers", "string": "free-text answers",
}
PSEUDONYM = "pseudonymous participant code"
_SHARE_CONSENT = re.compile(r"^consent_share_(?P<partner>.+)$")


@dataclass(frozen=True)
class FormRecord:
    project_name: str
    xml_form_id: str
    title: str
    version: str
    purpose: str | None
    data_categories: tuple[str, ...]
    encrypted: bool
    retention_days: int | None
    custodians: tuple[str, ...]
    recipients: tuple[str, ...]
    allow_listed: tuple[tuple[str, str], ...]  # (field, reason)


@dataclass(frozen=True)
class ProcessingRegister:
    generated_at: datetime
    forms: tuple[FormRecord, ...]
    allow_listed: tuple[tuple[str, str, str], ...]  # (form id, field, reason), the whole allow-list


def data_categories(xform: bytes) -> tuple[str, ...]:
    """What a form's answerable fields collect, by name first and type second (notes and calculates skipped)."""
    schema = parse_form_schema(xform)
    readonly = {local_name_path(bind.get("nodeset")) for bind in parse_xml(xform).iter()
                if isinstance(bind.tag, str) and local_name(bind) == "bind"
                and (bind.get("readonly") or "").replace(" ", "") == "true()"}
    found: list[str] = []
    for field in schema.fields:
        if field.kind != "field" or field.path[0] == "meta" or field.path in readonly:
            continue
        if field.name in PARTICIPANT_CODE_FIELDS:
            category = PSEUDONYM
        elif not field.labels:
            continue  # a calculate: derived from other answers, asks nothing
        else:
            category = next((text for pattern, text in _NAMED_CATEGORIES if re.search(pattern, field.name)),
                            _TYPE_CATEGORIES.get(field.type, "other answers"))
        if category not in found:
            found.append(category)
    return tuple(found)


def local_name_path(nodeset: str | None) -> tuple[str, ...]:
    """`/data/group/field` → ("group", "field"), the path schema fields use."""
    return tuple(step.split(":")[-1] for step in (nodeset or "").strip("/").split("/")[1:])


def _share_partners(xform: bytes) -> list[str]:
    schema = parse_form_schema(xform)
    partners = []
    for field in schema.fields:
        match = _SHARE_CONSENT.match(field.name)
        if match:
            partners.append(field.labels.get("English (en)") or match.group("partner").replace("_", " "))
    return partners


def _recipients(session: Session, form: Form, xform: bytes) -> tuple[str, ...]:
    # details is JSON on both databases; filter in Python rather than with dialect-specific JSON operators.
    own = [event for event in session.scalars(select(AuditEvent).where(
        AuditEvent.project_id == form.project_id, AuditEvent.action == "submission.export").order_by(AuditEvent.id))
        if event.details.get("xmlFormId") == form.xml_form_id]
    recipients = []
    if own:
        recipients.append(f"exports by staff: {len(own)}, the last on {own[-1].at:%Y-%m-%d} (audit log)")
    else:
        recipients.append("exports by staff: none so far")
    partners = _share_partners(xform)
    if partners:
        recipients.append("referral partners, only with the participant's separate consent per partner: "
                          + "; ".join(partners))
    entity = read_xform(xform).entity
    if entity is not None:
        recipients.append(f"the entity list '{entity.dataset}' on the project's phones (code and list properties only)")
    return tuple(recipients)


def processing_register(session: Session, purposes: Mapping[str, str], allowlist: IdentifierAllowlist,
                        *, generated_at: datetime, project_id: int | None = None) -> ProcessingRegister:
    """One record per published form (every project, or one)."""
    query = (select(Form, Project, FormVersion).join(Project, Project.id == Form.project_id)
             .join(FormVersion, FormVersion.id == Form.current_version_id)
             .where(Form.deleted_at.is_(None), Project.deleted_at.is_(None)).order_by(Project.id, Form.xml_form_id))
    if project_id is not None:
        query = query.where(Project.id == project_id)
    records = []
    for form, project, current in session.execute(query).all():
        key_ids = set(session.scalars(select(FormVersion.key_id).where(
            FormVersion.form_id == form.id, FormVersion.key_id.is_not(None), FormVersion.published_at.is_not(None))))
        names = sorted({slot.custodian for key_id in key_ids for slot in custodians(session, key_id)})
        records.append(FormRecord(
            project_name=project.name, xml_form_id=form.xml_form_id, title=current.title or form.xml_form_id,
            version=current.version, purpose=purposes.get(form.xml_form_id),
            data_categories=data_categories(current.xml), encrypted=bool(current.public_key),
            retention_days=form_retention_days(form, project), custodians=tuple(names),
            recipients=_recipients(session, form, current.xml),
            allow_listed=tuple((f, reason) for (form_id, f), reason in sorted(allowlist.entries.items())
                               if form_id == form.xml_form_id),
        ))
    everything = tuple((form_id, f, reason) for (form_id, f), reason in sorted(allowlist.entries.items()))
    return ProcessingRegister(generated_at, tuple(records), everything)


def _facts(record: FormRecord) -> list[tuple[str, str]]:
    retention = f"{record.retention_days} days, then deleted by `samen retention run`" \
        if record.retention_days is not None else "NOT SET: data is kept until someone deletes it"
    decrypt = ", ".join(record.custodians) if record.custodians else \
        ("nobody on this server holds the key" if record.encrypted else "not encrypted: every user with read access")
    allowed = "; ".join(f"{f} ({reason})" for f, reason in record.allow_listed) or "none"
    return [
        ("Form", f"{record.title} (`{record.xml_form_id}`, version {record.version}), project {record.project_name}"),
        ("Purpose", record.purpose or "NOT RECORDED: add `purpose` to the form's entry in xlsform_src/forms.toml"),
        ("Data categories", "; ".join(record.data_categories) or "none"),
        ("Encrypted on the phone", "yes (project key)" if record.encrypted else "no"),
        ("Retention", retention),
        ("Who can decrypt (key custodians)", decrypt),
        ("Where data goes", "; ".join(record.recipients)),
        ("Direct identifiers allowed (reviewed)", allowed),
    ]


def register_markdown(register: ProcessingRegister) -> str:
    lines = ["# Record of processing activities (GDPR Art. 30)", "",
             f"Generated by SAMEN Forms on {register.generated_at:%Y-%m-%d %H:%M} UTC from the published forms.", ""]
    for record in register.forms:
        lines += [f"## {record.title}", "", "| | |", "|---|---|"]
        lines += [f"| {name} | {value.replace('|', '/')} |" for name, value in _facts(record)]
        lines.append("")
    lines += ["## Identifier allow-list", ""]
    if register.allow_listed:
        lines += ["| Form | Field | Reason |", "|---|---|---|"]
        lines += [f"| {form_id} | {f} | {reason.replace('|', '/')} |" for form_id, f, reason in register.allow_listed]
    else:
        lines.append("No field is allowed to ask for a direct identifier.")
    return "\n".join(lines) + "\n"


def register_html(register: ProcessingRegister) -> str:
    e = html.escape
    parts = ["<!doctype html><html lang=en><meta charset=utf-8><title>Record of processing activities</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}th{text-align:left;vertical-align:top;"
             "padding-right:1em}td,th{border-bottom:1px solid #ddd;padding:.3em}</style>",
             "<h1>Record of processing activities (GDPR Art. 30)</h1>",
             f"<p>Generated by SAMEN Forms on {register.generated_at:%Y-%m-%d %H:%M} UTC from the published forms.</p>"]
    for record in register.forms:
        parts.append(f"<h2>{e(record.title)}</h2><table>")
        parts += [f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in _facts(record)]
        parts.append("</table>")
    parts.append("<h2>Identifier allow-list</h2>")
    if register.allow_listed:
        parts.append("<table><tr><th>Form</th><th>Field</th><th>Reason</th></tr>")
        parts += [f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in register.allow_listed]
        parts.append("</table>")
    else:
        parts.append("<p>No field is allowed to ask for a direct identifier.</p>")
    return "\n".join(parts) + "\n</html>\n"
