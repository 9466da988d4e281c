"""Forms: upload a definition as a draft, publish it as a version, carry attachments along.

Flow: bytes (XLSForm or XForm) → `prepare_definition` (pyxform, ODK Validate,
identifier lint — no storage) → `save_draft` → `publish_draft` (inject the
project key, fix the version string) → phones see it in the form list.

A draft carries a testing token (`samen.draft_testing`) from when it is saved
until it is published or abandoned; replacing the draft keeps the token, so a
phone set up for testing fetches the new definition with its next update.
Whenever a draft ends or is replaced, its test submissions are deleted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from samen import audit
from samen.auth import Actor, new_token
from samen.blobs import BlobStore
from samen.entities.lists import learn_from_published_form
from samen.identifier_gate import refuse_direct_identifiers
from samen.models import Form, FormAttachment, FormVersion, Project, ProjectKey, Submission, utcnow
from samen.problems import InvalidFormError, VersionExistsError, XlsFormWarningsError
from samen.queries import find_form, record_blob
from samen.retention import drop_unreferenced_blobs, purge_submissions, remove_blob_files_after_commit
from samen.xform import XFormFacts, read_xform, with_public_key, with_version
from samen.xlsform import XLSFORM_TYPES, convert_xlsform, validate_xform


_ENCRYPTED_SUFFIX = re.compile(r"\[encrypted:\d+\]$")


@dataclass(frozen=True)
class FormUpload:
    data: bytes
    file_type: str  # "xml" or one of XLSFORM_TYPES
    form_id_fallback: str | None = None
    ignore_warnings: bool = True


@dataclass(frozen=True)
class PreparedForm:
    xml: bytes
    facts: XFormFacts
    warnings: tuple[str, ...]
    extra_files: dict[str, bytes] = field(default_factory=dict)  # e.g. itemsets.csv made by pyxform


def prepare_definition(upload: FormUpload) -> PreparedForm:
    """Convert, validate and check a definition, without storing anything."""
    extra: dict[str, bytes] = {}
    if upload.file_type in XLSFORM_TYPES:
        converted = convert_xlsform(upload.data, XLSFORM_TYPES[upload.file_type], upload.form_id_fallback)
        xml, warnings = converted.xml, converted.warnings
        if converted.itemsets_csv:
            extra["itemsets.csv"] = converted.itemsets_csv
    elif upload.file_type == "xml":
        xml = upload.data
        warnings = validate_xform(xml)
    else:
        raise InvalidFormError("Upload an XForm (.xml) or an XLSForm (.xlsx, .xls).")
    if warnings and not upload.ignore_warnings:
        raise XlsFormWarningsError(warnings=list(warnings))
    refuse_direct_identifiers(xml)
    facts = read_xform(xml)
    if not facts.has_instance_id:
        raise InvalidFormError(
            "The form has no meta/instanceID. Without it a resent submission would be stored twice; "
            "add it (pyxform adds it to every XLSForm)."
        )
    return PreparedForm(xml=xml, facts=facts, warnings=tuple(warnings), extra_files=extra)


def save_draft(session: Session, blobs: BlobStore, project: Project, prepared: PreparedForm, actor: Actor | None,
               *, encrypt_with_project_key: bool = True, retention_days: int | None = None) -> Form:
    """Make the definition the form's draft, creating the form on first upload."""
    form = find_form(session, project.id, prepared.facts.form_id)
    if form is None:
        form = Form(project_id=project.id, xml_form_id=prepared.facts.form_id, name=prepared.facts.title,
                    encrypt_with_project_key=encrypt_with_project_key, retention_days=retention_days)
        session.add(form)
        session.flush()
    replaced = session.get(FormVersion, form.draft_version_id) if form.draft_version_id else None
    draft = FormVersion(
        form_id=form.id, version=prepared.facts.version, title=prepared.facts.title, xml=prepared.xml,
        md5=hashlib.md5(prepared.xml).hexdigest(), sha256=hashlib.sha256(prepared.xml).hexdigest(),
        public_key=prepared.facts.public_key,
        # As in Central, a replaced draft hands its token on: the tester's phone stays set up.
        draft_token=(replaced.draft_token if replaced is not None else None) or new_token(),
    )
    if replaced is not None:
        _end_draft_testing(session, blobs, form, replaced, actor)  # its test data was made with another definition
    session.add(draft)
    session.flush()
    previous = form.current_version_id or form.draft_version_id
    _attach_expected_files(session, blobs, draft, prepared, previous)
    form.draft_version_id = draft.id
    form.updated_at = utcnow()
    audit.record(session, "form.update.draft", actor_id=actor.id if actor else None, project_id=project.id,
                 xmlFormId=form.xml_form_id)
    return form


def _attach_expected_files(session: Session, blobs: BlobStore, draft: FormVersion, prepared: PreparedForm,
                           previous_version_id: int | None) -> None:
    """List the files the form expects; keep ones already uploaded to the previous version (as Central does)."""
    carried = {}
    if previous_version_id is not None:
        carried = {a.name: a.blob_sha256 for a in session.scalars(
            select(FormAttachment).where(FormAttachment.form_version_id == previous_version_id))}
    names = [a.name for a in prepared.facts.attachments] + [n for n in prepared.extra_files if n not in
                                                            {a.name for a in prepared.facts.attachments}]
    kinds = {a.name: a.kind for a in prepared.facts.attachments}
    for name in names:
        sha = carried.get(name)
        if name in prepared.extra_files:
            sha = blobs.put(prepared.extra_files[name])
            record_blob(session, sha, len(prepared.extra_files[name]), "text/csv")
        session.add(FormAttachment(form_version_id=draft.id, name=name, kind=kinds.get(name, "file"), blob_sha256=sha))
    session.flush()


def active_project_key(session: Session, project_id: int) -> ProjectKey | None:
    return session.scalar(
        select(ProjectKey).where(ProjectKey.project_id == project_id, ProjectKey.retired_at.is_(None))
        .order_by(ProjectKey.id.desc()).limit(1)
    )


def version_for_phones(session: Session, form: Form, draft: FormVersion,
                       version: str | None = None) -> tuple[str, ProjectKey | None]:
    """The version string the draft gets on phones (`version`, else its own) and the project key it is
    encrypted with, if the form asks for the project key and carries none of its own."""
    new_version = _ENCRYPTED_SUFFIX.sub("", draft.version) if version is None else version
    key = active_project_key(session, form.project_id) if form.encrypt_with_project_key and not draft.public_key else None
    if key is not None:
        # Phones must see a new version, or they would keep sending plaintext with the old definition.
        new_version = f"{new_version}[encrypted:{key.id}]"
    return new_version, key


def xml_for_phones(draft: FormVersion, version: str, key: ProjectKey | None) -> bytes:
    """The draft's XForm under that version, carrying that key (`version_for_phones`)."""
    if key is not None:
        return with_public_key(draft.xml, key.public_key, version)
    return draft.xml if version == draft.version else with_version(draft.xml, version)


def publish_draft(session: Session, blobs: BlobStore, form: Form, actor: Actor | None,
                  version: str | None = None) -> FormVersion:
    """Publish the form's draft, encrypting it with the project key when the form asks for that."""
    draft = session.get(FormVersion, form.draft_version_id) if form.draft_version_id else None
    if draft is None:
        raise InvalidFormError("The form has no draft to publish.")
    new_version, key = version_for_phones(session, form, draft, version)
    xml = xml_for_phones(draft, new_version, key)
    exists = session.scalar(select(FormVersion.id).where(
        FormVersion.form_id == form.id, FormVersion.version == new_version, FormVersion.published_at.is_not(None)))
    if exists is not None:
        raise VersionExistsError(
            f"Version '{new_version}' of '{form.xml_form_id}' is already published. Change the version and publish again.",
            version=new_version,
        )
    draft.xml = xml
    draft.version = new_version
    draft.md5 = hashlib.md5(xml).hexdigest()
    draft.sha256 = hashlib.sha256(xml).hexdigest()
    draft.key_id = key.id if key is not None else None
    draft.public_key = key.public_key if key is not None else draft.public_key
    draft.published_at = utcnow()
    _end_draft_testing(session, blobs, form, draft, actor)
    form.current_version_id = draft.id
    form.draft_version_id = None
    form.updated_at = draft.published_at
    learn_from_published_form(session, form, draft)  # entity lists the form writes or reads
    audit.record(session, "form.update.publish", actor_id=actor.id if actor else None, project_id=form.project_id,
                 xmlFormId=form.xml_form_id, version=new_version, encrypted=bool(draft.public_key))
    return draft


def abandon_draft(session: Session, blobs: BlobStore, form: Form, actor: Actor | None) -> None:
    """Drop the form's draft (the published version stays as it is)."""
    draft = session.get(FormVersion, form.draft_version_id) if form.draft_version_id else None
    if draft is None:
        raise InvalidFormError("The form has no draft to delete.")
    _end_draft_testing(session, blobs, form, draft, actor)
    form.draft_version_id = None
    audit.record(session, "form.update.draft.delete", actor_id=actor.id if actor else None,
                 project_id=form.project_id, xmlFormId=form.xml_form_id)


def _end_draft_testing(session: Session, blobs: BlobStore, form: Form, draft: FormVersion, actor: Actor | None) -> None:
    """The draft's testing token stops working and its test submissions are deleted (files once this commits)."""
    draft.draft_token = None
    test_ids = session.scalars(select(Submission.id).where(Submission.form_id == form.id,
                                                           Submission.draft.is_(True))).all()
    if not test_ids:
        return
    purged = purge_submissions(session, test_ids)
    remove_blob_files_after_commit(session, blobs, drop_unreferenced_blobs(session, purged.blob_digests))
    audit.record(session, "form.draft.submissions.delete", actor_id=actor.id if actor else None,
                 project_id=form.project_id, xmlFormId=form.xml_form_id, count=purged.submissions)


def publish_definition(session: Session, blobs: BlobStore, project: Project, upload: FormUpload, actor: Actor | None,
                       *, encrypt_with_project_key: bool = True) -> FormVersion:
    """Upload and publish in one step (CLI and `make run`). Republishing identical bytes is a no-op."""
    if upload.file_type == "xml":
        # Checked before ODK Validate (seconds of Java per form): `make run` republishes forms/ every time.
        unchanged = _unchanged_version(session, project, upload.data)
        if unchanged is not None:
            return unchanged
    prepared = prepare_definition(upload)
    unchanged = _unchanged_version(session, project, prepared.xml)
    if unchanged is not None:
        return unchanged
    form = save_draft(session, blobs, project, prepared, actor, encrypt_with_project_key=encrypt_with_project_key)
    return publish_draft(session, blobs, form, actor)


def _unchanged_version(session: Session, project: Project, xml: bytes) -> FormVersion | None:
    """The published version this definition already is, with or without the project key injected."""
    facts = read_xform(xml)
    form = find_form(session, project.id, facts.form_id)
    if form is None or form.current_version_id is None:
        return None
    current = session.get(FormVersion, form.current_version_id)
    if current.key_id is None:
        return current if current.sha256 == hashlib.sha256(xml).hexdigest() else None
    key = session.get(ProjectKey, current.key_id)
    if current.version != f"{facts.version}[encrypted:{key.id}]":
        return None
    return current if current.xml == with_public_key(xml, key.public_key, current.version) else None


def republish_encrypted_forms(session: Session, blobs: BlobStore, project: Project) -> list[FormVersion]:
    """After a key is created or rotated, publish every form that asks for encryption again, with the new key.

    ODK Central does the same when managed encryption is turned on, so that
    phones pick up the key with the next form update.
    """
    published = []
    forms = session.scalars(select(Form).where(Form.project_id == project.id, Form.deleted_at.is_(None),
                                              Form.encrypt_with_project_key.is_(True), Form.current_version_id.is_not(None)))
    for form in list(forms):
        current = session.get(FormVersion, form.current_version_id)
        if current.public_key and current.key_id is None:
            continue  # self-keyed: the form author holds its private key
        draft = FormVersion(form_id=form.id, version=current.version, title=current.title, xml=current.xml,
                            md5=current.md5, sha256=current.sha256)
        session.add(draft)
        session.flush()
        for attachment in session.scalars(select(FormAttachment).where(FormAttachment.form_version_id == current.id)):
            session.add(FormAttachment(form_version_id=draft.id, name=attachment.name, kind=attachment.kind,
                                       blob_sha256=attachment.blob_sha256, dataset_name=attachment.dataset_name))
        form.draft_version_id = draft.id
        published.append(publish_draft(session, blobs, form, None))
    return published
