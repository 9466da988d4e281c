"""Test helpers: forms written inline as XLSForm markdown, projects, phones and Collect-shaped requests."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from pyxform.xls2xform import convert

from samen.auth import new_token
from samen.models import AppUser, FormAssignment, Project
from samen.publishing import FormUpload, publish_definition

COLLECT_HEADERS = {
    "X-OpenRosa-Version": "1.0",
    "User-Agent": "org.odk.collect.android/v2024.2.4 Dalvik/2.1.0 (Linux; U; Android 13; Pixel 6 Build/TQ3A)",
    # Collect sends a localized 12-hour date; servers must not parse it.
    "Date": "Thu, 28 Nov 2026 08:15:01 PM GMT+01:00",
}
DEVICE_ID = "collect:Xy12AbCdEf345678"

SIMPLE_FORM_MD = """
| survey   |          |          |             |
|          | type     | name     | label       |
|          | select_one city | city | City     |
|          | integer  | age_band | Age band    |
|          | text     | remarks  | Remarks     |
|          | image    | photo    | Photo       |
| choices  |          |          |             |
|          | list_name | name    | label       |
|          | city     | rotterdam | Rotterdam  |
|          | city     | utrecht  | Utrecht     |
| settings |          |          |             |
|          | form_id  | version  | form_title  |
|          | simple   | 2026110101 | Simple form |
"""

MEDIA_FORM_MD = """
| survey   |          |          |             |
|          | type     | name     | label       | image |
|          | note     | intro    | Welkom      | logo.png |
|          | text     | remarks  | Remarks     |       |
| settings |          |          |             |
|          | form_id  | version  |             |
|          | media    | v1       |             |
"""


def xform(md: str, validate: bool = False) -> bytes:
    return convert(xlsform=md, file_type=".md", validate=validate).xform.encode("utf-8")


def instance(form_id: str, version: str, fields: dict[str, str], instance_id: str | None = None,
             deprecated_id: str | None = None) -> tuple[bytes, str]:
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    body = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    meta = f"<instanceID>{instance_id}</instanceID>" + (f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else "")
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><data xmlns:jr="http://openrosa.org/javarosa" '
           f'xmlns:orx="http://openrosa.org/xforms" id="{form_id}" version="{version}">{body}<meta>{meta}</meta></data>')
    return xml.encode("utf-8"), instance_id


@dataclass
class Phone:
    project_id: int
    token: str
    app_user_id: int

    @property
    def prefix(self) -> str:
        return f"/v1/key/{self.token}/projects/{self.project_id}"


def make_project(services, name: str = "SAMEN Rotterdam") -> int:
    with services.database.session() as session:
        project = Project(name=name)
        session.add(project)
        session.flush()
        return project.id


def publish(services, project_id: int, xml: bytes, encrypt: bool = True):
    with services.database.session() as session:
        project = session.get(Project, project_id)
        return publish_definition(session, services.blobs, project, FormUpload(xml, "xml"), None,
                                  encrypt_with_project_key=encrypt)


def make_phone(services, project_id: int, form_ids: list[str] | None = None) -> Phone:
    from samen.queries import find_form

    with services.database.session() as session:
        app_user = AppUser(project_id=project_id, display_name="Ambassador phone", token=new_token())
        session.add(app_user)
        session.flush()
        for xml_form_id in form_ids or []:
            session.add(FormAssignment(app_user_id=app_user.id, form_id=find_form(session, project_id, xml_form_id).id))
        return Phone(project_id, app_user.token, app_user.id)


def multipart(xml: bytes, files: dict[str, bytes] | None = None, incomplete: bool = False) -> dict:
    """The parts Collect sends: the instance, one part per attachment named by file name."""
    data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    for name, content in (files or {}).items():
        data[name] = (io.BytesIO(content), name, "application/octet-stream")
    if incomplete:
        data["*isIncomplete*"] = "yes"
    return data
