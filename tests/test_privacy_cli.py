"""The data-protection commands end to end: publish with a period, protected export, erase with a receipt."""

from __future__ import annotations

import io

import msoffcrypto
import openpyxl
from click.testing import CliRunner
from sqlalchemy import select

from conftest import SYSTEM
from helpers import instance, make_project, publish, xform
from samen.cli import main
from samen.ingest import IncomingSubmission, ingest_submission
from samen.models import Form, Submission

CODE_FORM_MD = """
| survey   |           |                  |                   |
|          | type      | name             | label             |
|          | text      | participant_code | Participant code  |
|          | select_one city | city       | City              |
| choices  |           |                  |                   |
|          | list_name | name             | label             |
|          | city      | utrecht          | Utrecht           |
| settings |           |                  |                   |
|          | form_id   | version          |                   |
|          | coded     | 1                |                   |
"""
PASSWORD = "a long export password"


def _run(services, tmp_path, *args: str, input: str | None = None):
    env = {"SAMEN_DATABASE_URL": services.database.url, "SAMEN_DATA_DIR": str(services.settings.data_dir),
           "SAMEN_EXPORT_DIR": str(tmp_path / "exports"), "SAMEN_SECRET_KEY": "cli test secret"}
    return CliRunner().invoke(main, list(args), env=env, input=input)


def _submit(services, project_id: int, code: str) -> None:
    xml, _ = instance("coded", "1", {"participant_code": code, "city": "utrecht"})
    with services.database.session() as session:
        ingest_submission(session, services.blobs, project_id, IncomingSubmission(xml=xml, files={}), SYSTEM)


def test_publish_with_a_retention_period(services, tmp_path):
    project_id = make_project(services)
    source = tmp_path / "coded.md"
    source.write_text(CODE_FORM_MD)
    result = _run(services, tmp_path, "form", "publish", "--project", str(project_id), "--no-encrypt",
                  "--retention-days", "90", str(source))
    assert result.exit_code == 0, result.output
    with services.database.session() as session:
        assert session.scalar(select(Form.retention_days).where(Form.xml_form_id == "coded")) == 90


def test_a_protected_xlsx_export_and_an_erasure_with_its_receipt(services, tmp_path):
    project_id = make_project(services)
    publish(services, project_id, xform(CODE_FORM_MD), encrypt=False)
    for code in ("K7M4TQX", "K7M4TQX", "4TT9WQ2"):
        _submit(services, project_id, code)

    result = _run(services, tmp_path, "export", "--project", str(project_id), "--form", "coded", "--format", "xlsx",
                  "--protect-password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    [path] = (tmp_path / "exports").iterdir()
    office = msoffcrypto.OfficeFile(path.open("rb"))
    office.load_key(password=PASSWORD)
    plain = io.BytesIO()
    office.decrypt(plain)
    assert openpyxl.load_workbook(plain).active.max_row == 4  # header and three submissions

    refused = _run(services, tmp_path, "erase", "--project", str(project_id), "--code", "k7m4-tqx")
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = _run(services, tmp_path, "erase", "--project", str(project_id), "--code", "k7m4-tqx", "--yes")
    assert result.exit_code == 0, result.output
    assert "Deleted permanently: 2 form(s) 'coded'" in result.output and "K7M4" not in result.output
    with services.database.session() as session:
        assert len(session.scalars(select(Submission)).all()) == 1
    again = _run(services, tmp_path, "erase", "--project", str(project_id), "--code", "K7M4TQX", "--yes")
    assert again.exit_code == 0 and "No data linked to this code was found." in again.output


def _bearer(client, services, email: str, project_id: int, role: str) -> dict[str, str]:
    from samen.models import ProjectRole, User
    from samen.passwords import hash_password

    with services.database.session() as session:
        user = User(email=email, display_name=email, password_hash=hash_password("a password for the api test"))
        session.add(user)
        session.flush()
        session.add(ProjectRole(user_id=user.id, project_id=project_id, role=role))
    response = client.post("/v1/sessions", json={"email": email, "password": "a password for the api test"})
    assert response.status_code == 200, response.data
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_the_erasure_endpoint_previews_then_deletes_for_managers_only(app, services):
    project_id = make_project(services)
    publish(services, project_id, xform(CODE_FORM_MD), encrypt=False)
    for code in ("K7M4TQX", "4TT9WQ2"):
        _submit(services, project_id, code)
    client = app.test_client()
    url = f"/v1/projects/{project_id}/erasure"
    viewer = _bearer(client, services, "viewer@example.org", project_id, "viewer")
    assert client.post(url, json={"code": "K7M4TQX"}, headers=viewer).status_code == 403
    manager = _bearer(client, services, "manager@example.org", project_id, "manager")
    assert client.post(url, json={"code": "K7M4TQX", "confirm": "yes"}, headers=manager).status_code == 400

    preview = client.post(url, json={"code": "k7m4-tqx"}, headers=manager).get_json()
    assert (preview["performed"], preview["submissions"]) == (False, {"coded": 1})
    done = client.post(url, json={"code": "k7m4-tqx", "confirm": True}, headers=manager).get_json()
    assert (done["performed"], done["submissions"], done["reference"]) == (True, {"coded": 1}, preview["reference"])
    assert "K7M4" not in str(done)
    with services.database.session() as session:
        assert len(session.scalars(select(Submission)).all()) == 1
