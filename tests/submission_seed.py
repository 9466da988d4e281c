"""Stored submissions for the export and OData tests: a form with groups and repeats, plaintext or encrypted.

Submissions go through `samen.ingest` exactly as a phone's would; encrypted
ones are made by tests/encryptor.py (which shares no code with samen.crypto).
"""

from __future__ import annotations

from dataclasses import dataclass
from unittest.mock import patch
from xml.sax.saxutils import escape

from sqlalchemy import select

from encryptor import encrypt_submission
from helpers import make_project, publish, xform
from samen import keyring
from samen.auth import Actor, new_token
from samen.crypto.keys import RsaPrivateKey
from samen.ingest import IncomingSubmission, ingest_with_retry
from samen.models import AppUser, Form, FormVersion, Project

PASSPHRASE = "kamille-tulp-zeven-bruggen"
FORM_ID = "visits"

VISITS_FORM_MD = """
| survey   |                 |            |              |
|          | type            | name       | label        |
|          | text            | name       | Name         |
|          | integer         | age        | Age          |
|          | decimal         | score      | Score        |
|          | date            | seen_on    | Seen on      |
|          | select_one city | city       | City         |
|          | select_multiple need | needs | Needs        |
|          | geopoint        | location   | Location     |
|          | begin_group     | household  | Household    |
|          | integer         | size       | Size         |
|          | begin_repeat    | members    | Members      |
|          | text            | member_name | Member name |
|          | end_repeat      |            |              |
|          | end_group       |            |              |
|          | begin_repeat    | visit      | Visit        |
|          | date            | visit_date | Visit date   |
|          | geopoint        | place      | Place        |
|          | end_repeat      |            |              |
|          | image           | photo      | Photo        |
| choices  |                 |            |              |
|          | list_name       | name       | label        |
|          | city            | rotterdam  | Rotterdam    |
|          | city            | utrecht    | Utrecht      |
|          | need            | shelter    | Shelter      |
|          | need            | legal      | Legal aid    |
| settings |                 |            |              |
|          | form_id         | version    | form_title   |
|          | visits          | 1          | Visits       |
"""


@dataclass
class SeededForm:
    project_id: int
    version: str  # the published version string phones send
    private_key: RsaPrivateKey | None
    actor: Actor


def seed_form(services, *, encrypted: bool) -> SeededForm:
    """A project with the visits form published (with a project key when `encrypted`) and one phone."""
    project_id = make_project(services)
    with services.database.session() as session:
        project = session.get(Project, project_id)
        if encrypted:
            keyring.create_key(session, project, PASSPHRASE, custodian="test custodian")
        app_user = AppUser(project_id=project_id, display_name="Phone Amira", token=new_token())
        session.add(app_user)
        session.flush()
        app_user_id = app_user.id
    publish_form(services, project_id, VISITS_FORM_MD, encrypt=encrypted)
    with services.database.session() as session:
        form = session.scalar(select(Form).where(Form.project_id == project_id, Form.xml_form_id == FORM_ID))
        version = session.get(FormVersion, form.current_version_id).version
        private_key = next(iter(keyring.unlock_with_passphrase(session, project_id, PASSPHRASE).values())) if encrypted else None
    actor = Actor(kind="app_user", id=app_user_id, display_name="Phone Amira", project_id=project_id,
                  form_ids=frozenset({form.id}))
    return SeededForm(project_id, version, private_key, actor)


def publish_form(services, project_id: int, markdown: str, *, encrypt: bool) -> None:
    """Publish an XLSForm written as markdown, past the identifier gate.

    The gate refuses geopoints (a GPS position identifies someone); these tests
    need them to check GeoJSON and WKT, and the gate has its own tests. Nothing
    here is real data.
    """
    with patch("samen.publishing.refuse_direct_identifiers"):
        publish(services, project_id, xform(markdown), encrypt=encrypt)


def visit_instance(version: str, instance_id: str, name: str, *, age: int = 30, city: str = "utrecht",
                   visits: int = 2, photo: str | None = None, deprecated_id: str | None = None) -> bytes:
    """An instance of the visits form as Collect writes it."""
    visit_rows = "".join(
        f"<visit><visit_date>2024-05-{index + 1:02d}</visit_date><place>52.{index} 5.1 2 4.5</place></visit>"
        for index in range(visits)
    )
    return (
        f'<?xml version="1.0"?><data xmlns:orx="http://openrosa.org/xforms" id="{FORM_ID}" version="{escape(version)}">'
        f"<name>{escape(name)}</name><age>{age}</age><score>7.5</score><seen_on>2024-05-01</seen_on>"
        f"<city>{city}</city><needs>shelter legal</needs><location>52.0907 5.1214 3.5 4.8</location>"
        f"<household><size>3</size><members><member_name>Selam</member_name></members>"
        f"<members><member_name>Yonas</member_name></members></household>"
        f"{visit_rows}<photo>{photo or ''}</photo>"
        f"<orx:meta><orx:instanceID>{instance_id}</orx:instanceID>"
        f"{f'<orx:deprecatedID>{deprecated_id}</orx:deprecatedID>' if deprecated_id else ''}</orx:meta></data>"
    ).encode("utf-8")


def submit(services, seeded: SeededForm, instance_id: str, name: str, *, media: dict[str, bytes] | None = None,
           tamper: bool = False, **fields) -> None:
    """Store one submission through ingest, encrypted on the 'phone' when the form is.

    `tamper` flips a byte of the encrypted XML on the way, as a damaged upload would.
    """
    photo = next(iter(media), None) if media else None
    xml = visit_instance(seeded.version, instance_id, name, photo=photo, **fields)
    files = dict(media or {})
    if seeded.private_key is not None:
        xml, files = encrypt_submission(seeded.private_key.public_key(), FORM_ID, seeded.version, instance_id, xml,
                                        list(files.items()))
        if tamper:
            damaged = bytearray(files["submission.xml.enc"])
            damaged[20] ^= 0xFF
            files["submission.xml.enc"] = bytes(damaged)
    ingest_with_retry(services.database, services.blobs, seeded.project_id,
                      lambda _session: seeded.actor, lambda: IncomingSubmission(xml, files))
