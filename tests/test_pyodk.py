"""pyodk against a live server (gunicorn in a subprocess), unchanged: the calls staff scripts make.

Projects, forms uploaded as XLSX and as XML, new versions (definition and
attachments), app users with form assignments, submissions created with files,
edited, reviewed and commented — with form and instance ids holding `/` and
Unicode. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid

import pytest

from api_client import xlsx
from helpers import SIMPLE_FORM_MD, xform
from pyodk_client import create_project, pyodk_client

pytestmark = pytest.mark.live

FORM_ID = "intake/ü"


def intake_workbook(version: str) -> bytes:
    return xlsx([["type", "name", "label", "image"],
                 ["note", "intro", "Welkom", "logo.png"],
                 ["text", "wijk", "Wijk", ""],
                 ["image", "foto", "Foto", ""]],
                {"form_id": FORM_ID, "version": version, "form_title": "Intake"})


def submission_xml(version: str, wijk: str, instance_id: str, deprecated_id: str | None = None) -> str:
    deprecated = f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else ""
    return (f'<data id="{FORM_ID}" version="{version}"><intro/><wijk>{wijk}</wijk><foto>foto.jpg</foto>'
            f"<meta><instanceID>{instance_id}</instanceID>{deprecated}</meta></data>")


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "intake.xlsx").write_bytes(intake_workbook("1"))
    (folder / "intake-v2.xlsx").write_bytes(intake_workbook("2"))
    (folder / "logo.png").write_bytes(b"\x89PNG logo one")
    (folder / "logo-v3").mkdir()
    (folder / "logo-v3" / "logo.png").write_bytes(b"\x89PNG logo three")
    (folder / "foto.jpg").write_bytes(b"\xff\xd8 a photo")
    return folder


def test_pyodk_end_to_end(live_server, tmp_path, files):
    with pyodk_client(live_server.url, tmp_path / "pyodk") as client:
        project_id = create_project(client, "SAMEN Den Haag")
        client.project_id = project_id
        assert [p.id for p in client.projects.list()] == [project_id]
        assert client.projects.get(project_id).name == "SAMEN Den Haag"

        form = client.forms.create(files / "intake.xlsx", attachments=[files / "logo.png"], project_id=project_id)
        assert (form.xmlFormId, form.version) == (FORM_ID, "1")
        plain = client.forms.create(xform(SIMPLE_FORM_MD).decode("utf-8"), project_id=project_id)
        assert plain.xmlFormId == "simple"
        assert sorted(f.xmlFormId for f in client.forms.list(project_id=project_id)) == [FORM_ID, "simple"]
        assert f'id="{FORM_ID}"' in client.forms.get_xml(FORM_ID, project_id=project_id)
        assert client.forms.get(FORM_ID, project_id=project_id).publishedAt is not None

        client.forms.update(FORM_ID, project_id=project_id, definition=files / "intake-v2.xlsx")
        assert client.forms.get(FORM_ID, project_id=project_id).version == "2"
        client.forms.update(FORM_ID, project_id=project_id, attachments=[files / "logo-v3" / "logo.png"],
                            version_updater=lambda version: "3")
        assert client.forms.get(FORM_ID, project_id=project_id).version == "3"
        logo = client.get(f"projects/{project_id}/forms/{client.session.urlquote(FORM_ID)}/attachments/logo.png")
        assert logo.content == b"\x89PNG logo three"

        [app_user] = client.projects.create_app_users(["Telefoon Den Haag"], forms=[FORM_ID], project_id=project_id)
        assert app_user.token and app_user.type == "field_key"
        assert client.projects.create_app_users(["Telefoon Den Haag"], project_id=project_id) == []  # idempotent
        assignments = client.get(f"projects/{project_id}/forms/{client.session.urlquote(FORM_ID)}/assignments").json()
        assert assignments == [{"actorId": app_user.id, "roleId": 2}]

        first_id = f"uuid:{uuid.uuid4()}/één"
        created = client.submissions.create(submission_xml("3", "Centrum", first_id), form_id=FORM_ID,
                                            project_id=project_id, device_id="pyodk-test",
                                            attachments=[files / "foto.jpg"])
        assert created.instanceId == first_id and created.deviceId == "pyodk-test"
        assert [(a.name, a.exists) for a in created.attachments] == [("foto.jpg", True)]

        second_id = f"uuid:{uuid.uuid4()}"
        client.submissions.edit(first_id, submission_xml("3", "Laak", second_id, deprecated_id=first_id),
                                form_id=FORM_ID, project_id=project_id, comment="wijk verbeterd")
        client.submissions.review(first_id, "approved", form_id=FORM_ID, project_id=project_id, comment="akkoord")
        submission = client.submissions.get(first_id, form_id=FORM_ID, project_id=project_id)
        assert submission.reviewState == "approved"
        assert [c.body for c in client.submissions.list_comments(first_id, form_id=FORM_ID, project_id=project_id)] \
            == ["wijk verbeterd", "akkoord"]
        assert [s.instanceId for s in client.submissions.list(form_id=FORM_ID, project_id=project_id)] == [first_id]
        versions = client.get(f"projects/{project_id}/forms/{client.session.urlquote(FORM_ID)}/submissions/"
                              f"{client.session.urlquote(first_id)}/versions").json()
        assert [v["instanceId"] for v in versions] == [second_id, first_id]

    # A second client reuses the cached token: pyodk checks it with GET /v1/users/current.
    again = pyodk_client(live_server.url, tmp_path / "pyodk")
    with again:
        assert again.session.headers["Authorization"] == client.session.headers["Authorization"]
        assert [p.id for p in again.projects.list()] == [project_id]


def test_pyodk_errors_are_json_and_409_6_on_a_taken_version(live_server, tmp_path, files):
    from pyodk.errors import PyODKError

    with pyodk_client(live_server.url, tmp_path / "pyodk") as client:
        project_id = create_project(client, "SAMEN Utrecht")
        client.forms.create(files / "intake.xlsx", attachments=[files / "logo.png"], project_id=project_id)
        with pytest.raises(PyODKError) as taken:
            client.forms.update(FORM_ID, project_id=project_id, attachments=[files / "logo.png"],
                                version_updater=lambda version: version)
        assert taken.value.args[1].status_code == 409
        assert taken.value.args[1].json()["code"] == 409.6
        with pytest.raises(PyODKError) as missing:
            client.forms.get("no-such-form", project_id=project_id)
        assert missing.value.args[1].json()["code"] == 404.1
