"""Forms over the REST API: XForm and XLSForm uploads, drafts, attachments, versions, state; SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest

from api_client import XLSX_TYPE, path_part, sign_in, xlsx
from helpers import MEDIA_FORM_MD, SIMPLE_FORM_MD, xform


def upload(client, admin, project_id, body, content_type="application/xml", query="", headers=None):
    return client.post(f"/v1/projects/{project_id}/forms{query}", data=body,
                       headers={**admin.headers, "Content-Type": content_type, **(headers or {})})


def test_xml_upload_publishes_and_the_form_has_centrals_keys(client, admin, project_id):
    response = upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    assert response.status_code == 200
    form = response.json
    assert {"projectId", "xmlFormId", "name", "version", "enketoId", "hash", "keyId", "state", "createdAt",
            "updatedAt", "publishedAt"} <= form.keys()
    assert (form["xmlFormId"], form["version"], form["state"], form["name"]) == ("simple", "2026110101", "open", "Simple form")
    assert form["publishedAt"] is not None and form["enketoId"] is None and form["keyId"] is None
    served = client.get(f"/v1/projects/{project_id}/forms/simple.xml", headers=admin.headers)
    assert served.status_code == 200
    assert form["hash"] == hashlib.md5(served.data).hexdigest()
    listed = client.get(f"/v1/projects/{project_id}/forms", headers=admin.headers).json
    assert [f["xmlFormId"] for f in listed] == ["simple"]


def test_uploading_an_existing_form_id_is_409_3(client, admin, project_id):
    assert upload(client, admin, project_id, xform(SIMPLE_FORM_MD)).status_code == 200
    again = upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    assert again.status_code == 409
    assert again.json["code"] == 409.3


def test_xlsx_upload_with_publish_false_stays_a_draft_until_published(client, admin, project_id):
    book = xlsx([["type", "name", "label"], ["text", "wijk", "Wijk"]], {"form_id": "intake", "version": "3"})
    created = upload(client, admin, project_id, book, XLSX_TYPE, "?publish=False&ignoreWarnings=True",
                     {"X-XlsForm-FormId-Fallback": "intake"})
    assert created.status_code == 200, created.json
    assert created.json["publishedAt"] is None and created.json["version"] == "3"
    assert client.get(f"/v1/projects/{project_id}/forms/intake.xml", headers=admin.headers).status_code == 404
    assert client.get(f"/v1/projects/{project_id}/forms/intake/draft", headers=admin.headers).json["version"] == "3"
    published = client.post(f"/v1/projects/{project_id}/forms/intake/draft/publish", headers=admin.headers)
    assert published.json == {"success": True}
    assert client.get(f"/v1/projects/{project_id}/forms/intake", headers=admin.headers).json["publishedAt"]
    assert client.get(f"/v1/projects/{project_id}/forms/intake/draft", headers=admin.headers).json["code"] == 404.1


def test_xlsform_warnings_are_400_16_unless_ignored(client, admin, project_id):
    # pyxform warns about the old 'disabled' column but converts the form.
    book = xlsx([["type", "name", "label", "disabled"], ["text", "wijk", "Wijk", "no"]],
                {"form_id": "warned", "version": "1"})
    refused = upload(client, admin, project_id, book, XLSX_TYPE, "?ignoreWarnings=false")
    assert refused.status_code == 400 and refused.json["code"] == 400.16
    assert any("disabled" in warning for warning in refused.json["details"]["warnings"])
    assert client.get(f"/v1/projects/{project_id}/forms/warned", headers=admin.headers).status_code == 404
    assert upload(client, admin, project_id, book, XLSX_TYPE, "?ignoreWarnings=TRUE").status_code == 200


@pytest.mark.parametrize("form_id", ["a/b", "vragenlijst-ü", "intake/شهر"])
def test_form_ids_with_slash_and_unicode_resolve_everywhere(client, admin, project_id, form_id):
    book = xlsx([["type", "name", "label"], ["text", "wijk", "Wijk"]], {"form_id": form_id, "version": "1"})
    assert upload(client, admin, project_id, book, XLSX_TYPE, "?ignoreWarnings=true").status_code == 200
    base = f"/v1/projects/{project_id}/forms/{path_part(form_id)}"
    assert client.get(base, headers=admin.headers).json["xmlFormId"] == form_id
    assert client.get(base + ".xml", headers=admin.headers).status_code == 200
    assert [v["version"] for v in client.get(base + "/versions", headers=admin.headers).json] == ["1"]
    assert client.patch(base, json={"state": "closing"}, headers=admin.headers).json["state"] == "closing"


def test_new_version_from_a_definition_and_a_taken_version_is_409_6(client, admin, project_id):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    base = f"/v1/projects/{project_id}/forms/simple"
    same = client.post(base + "/draft", data=xform(SIMPLE_FORM_MD),
                       headers={**admin.headers, "Content-Type": "application/xml"})
    assert same.json == {"success": True}
    taken = client.post(base + "/draft/publish", headers=admin.headers)
    assert taken.status_code == 409 and taken.json["code"] == 409.6
    assert client.post(base + "/draft/publish?version=2026110102", headers=admin.headers).json == {"success": True}
    versions = client.get(base + "/versions", headers=admin.headers).json
    assert [v["version"] for v in versions] == ["2026110102", "2026110101"]
    assert client.get(base, headers=admin.headers).json["version"] == "2026110102"


def test_a_definition_for_another_form_id_is_refused_as_a_draft(client, admin, project_id):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    other = xform(SIMPLE_FORM_MD.replace("| simple ", "| other "))
    response = client.post(f"/v1/projects/{project_id}/forms/simple/draft", data=other,
                           headers={**admin.headers, "Content-Type": "application/xml"})
    assert response.status_code == 400


def test_attachment_only_update_copies_the_definition_and_carries_files(client, admin, project_id):
    upload(client, admin, project_id, xform(MEDIA_FORM_MD), query="?publish=false")
    base = f"/v1/projects/{project_id}/forms/media"
    expected = client.get(base + "/draft/attachments", headers=admin.headers).json
    assert [(a["name"], a["exists"]) for a in expected] == [("logo.png", False)]
    unknown = client.post(base + "/draft/attachments/other.png", data=b"x", headers=admin.headers)
    assert unknown.status_code == 404
    assert client.post(base + "/draft/attachments/logo.png", data=b"\x89PNG one",
                       headers={**admin.headers, "Content-Type": "image/png"}).json == {"success": True}
    client.post(base + "/draft/publish", headers=admin.headers)
    assert client.get(base + "/attachments/logo.png", headers=admin.headers).data == b"\x89PNG one"

    assert client.post(base + "/draft", headers=admin.headers).json == {"success": True}  # empty body: copy
    carried = client.get(base + "/draft/attachments", headers=admin.headers).json
    assert carried[0]["exists"] is True and carried[0]["hash"] == hashlib.md5(b"\x89PNG one").hexdigest()
    client.post(base + "/draft/attachments/logo.png", data=b"\x89PNG two", headers=admin.headers)
    assert client.post(base + "/draft/publish?version=v2", headers=admin.headers).json == {"success": True}
    assert client.get(base + "/attachments/logo.png", headers=admin.headers).data == b"\x89PNG two"
    assert client.get(base, headers=admin.headers).json["version"] == "v2"


def test_state_and_delete(client, admin, project_id):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    base = f"/v1/projects/{project_id}/forms/simple"
    bad = client.patch(base, json={"state": "paused"}, headers=admin.headers)
    assert bad.status_code == 400 and bad.json["details"] == {"field": "state"}
    assert client.patch(base, json={"state": "closed"}, headers=admin.headers).json["state"] == "closed"
    assert client.delete(base, headers=admin.headers).json == {"success": True}
    assert client.get(base, headers=admin.headers).status_code == 404
    assert client.get(f"/v1/projects/{project_id}/forms", headers=admin.headers).json == []
    again = upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    assert again.status_code == 409 and again.json["code"] == 409.3


def test_collectors_see_only_open_published_forms(client, services, admin, project_id):
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD))
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD.replace("| simple ", "| closed_one ")))
    upload(client, admin, project_id, xform(SIMPLE_FORM_MD.replace("| simple ", "| draft_only ")), query="?publish=false")
    client.patch(f"/v1/projects/{project_id}/forms/closed_one", json={"state": "closed"}, headers=admin.headers)
    collector = sign_in(services, "collector@example.org", roles={project_id: "collector"})
    viewer = sign_in(services, "viewer@example.org", roles={project_id: "viewer"})

    def ids(who):
        return [f["xmlFormId"] for f in client.get(f"/v1/projects/{project_id}/forms", headers=who.headers).json]

    assert ids(admin) == ["closed_one", "draft_only", "simple"]
    assert ids(viewer) == ["closed_one", "simple"]
    assert ids(collector) == ["simple"]
