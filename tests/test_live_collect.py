"""A real server in a subprocess, driven the way ODK Collect drives it (headers, deviceID, multipart, resends)."""

from __future__ import annotations

import hashlib
import subprocess
import time

import pytest
import requests
from lxml import etree
from pyodk._endpoints.form_drafts import FormDraftService  # pyodk's own draft calls (forms.update uses them)

from helpers import COLLECT_HEADERS, DEVICE_ID, SIMPLE_FORM_MD, instance, xform
from pyodk_client import pyodk_client
from samen.collect_settings import settings_from_payload

pytestmark = pytest.mark.live
NS = {"x": "http://openrosa.org/xforms/xformsList", "r": "http://openrosa.org/http/response"}


def collect_multipart(xml: bytes, files: dict[str, bytes], incomplete: bool = False) -> list:
    """Collect's layout: the instance first as a file part, then each attachment named by its file name."""
    parts = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
    parts += [(name, (name, data, "image/jpeg")) for name, data in files.items()]
    if incomplete:
        parts.append(("*isIncomplete*", (None, "yes")))
    return parts


@pytest.fixture
def phone_url(live_server, tmp_path):
    form = tmp_path / "simple.xml"
    form.write_bytes(xform(SIMPLE_FORM_MD))
    project = live_server.cli("project", "create", "SAMEN Utrecht")
    assert project.returncode == 0, project.stderr
    project_id = project.stdout.strip()
    published = live_server.cli("form", "publish", "--project", project_id, str(form))
    assert published.returncode == 0, published.stderr
    qr_file = tmp_path / "phone.png"
    created = live_server.cli("app-user", "create", "--project", project_id, "--form", "simple", "--qr", str(qr_file),
                              "Ambassador Fatima")
    assert created.returncode == 0, created.stderr
    assert qr_file.read_bytes().startswith(b"\x89PNG")
    url = next(line.split(": ", 1)[1] for line in created.stdout.splitlines() if line.startswith("Collect server URL"))
    return url


def test_collect_downloads_a_form_and_submits_with_a_split_upload_and_a_resend(live_server, phone_url):
    form_list = requests.get(f"{phone_url}/formList", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS)
    assert form_list.status_code == 200
    assert form_list.headers["Content-Type"] == "text/xml; charset=utf-8"
    entry = etree.fromstring(form_list.content).find("x:xform", NS)
    download = requests.get(entry.findtext("x:downloadUrl", namespaces=NS), params={"deviceID": DEVICE_ID},
                            headers=COLLECT_HEADERS)
    assert entry.findtext("x:hash", namespaces=NS) == "md5:" + hashlib.md5(download.content).hexdigest()

    head = requests.head(f"{phone_url}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS)
    assert head.status_code == 204

    xml, _ = instance("simple", "2026110101", {"city": "utrecht", "photo": "a.jpg"})
    photo = bytes(range(256)) * 400
    first = requests.post(f"{phone_url}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS,
                          files=collect_multipart(xml, {}, incomplete=True))
    second = requests.post(f"{phone_url}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS,
                           files=collect_multipart(xml, {"a.jpg": photo}))
    resend = requests.post(f"{phone_url}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS,
                           files=collect_multipart(xml, {"a.jpg": photo}))
    assert [first.status_code, second.status_code, resend.status_code] == [201, 201, 201]
    message = etree.fromstring(second.content).find("r:message", NS)
    assert message.get("nature") == "submit_success"

    blobs = list((live_server.env_data_dir / "blobs").glob("??/??/*"))
    assert [b.read_bytes() for b in blobs] == [photo]


def test_revoking_the_app_user_locks_the_phone_out(live_server, phone_url):
    token = phone_url.split("/v1/key/")[1].split("/")[0]
    assert requests.get(f"{phone_url}/formList", headers=COLLECT_HEADERS).status_code == 200
    listed = live_server.cli("app-user", "revoke", "--project", phone_url.rsplit("/", 1)[1], "1")
    assert listed.returncode == 0, listed.stderr
    refused = requests.get(f"{phone_url}/formList", headers=COLLECT_HEADERS)
    assert refused.status_code == 403
    assert "WWW-Authenticate" not in refused.headers  # a 401 would make Collect ask for a password
    assert token not in refused.text


def test_the_access_log_records_phone_requests_without_their_token(live_server, phone_url):
    token = phone_url.split("/v1/key/")[1].split("/")[0]
    assert requests.get(f"{phone_url}/formList", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS).ok
    xml, _ = instance("simple", "2026110101", {"city": "utrecht"})
    assert requests.post(f"{phone_url}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS,
                         files=collect_multipart(xml, {})).status_code == 201
    access_log = live_server.env_data_dir / "access.log"
    deadline = time.monotonic() + 10
    while access_log.read_text().count("/v1/key/[token]/projects/") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # gunicorn writes the line after the response
    logged = access_log.read_text() + (live_server.env_data_dir / "server.log").read_text()
    assert 'POST /v1/key/[token]/projects/' in logged
    assert token not in logged


def test_qr_payload_decodes_to_collect_settings(live_server, tmp_path):
    from samen.collect_settings import collect_settings, settings_payload

    payload = settings_payload(collect_settings("http://127.0.0.1:8383/v1/key/T/projects/1", "SAMEN"))
    decoded = settings_from_payload(payload)
    assert decoded["general"]["server_url"].endswith("/v1/key/T/projects/1")
    assert set(decoded) >= {"general", "admin"}
    assert "\n" not in payload


def test_init_is_idempotent(live_server):
    again = subprocess.run(live_server.cli_argv("init"), env=live_server.env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "Password" not in again.stdout  # the first administrator is created once


def test_collect_tests_a_draft_and_publishing_it_ends_the_test(live_server, tmp_path):
    """A coordinator uploads a new version as a draft (pyodk), scans the testing code (`samen form draft-qr`),
    Collect fetches the draft and sends a test submission; publishing (pyodk) ends the code and the test data."""
    first, second = tmp_path / "simple.xml", tmp_path / "simple-v2.xml"
    first.write_bytes(xform(SIMPLE_FORM_MD))
    second.write_bytes(xform(SIMPLE_FORM_MD.replace("2026110101", "2026120101")))
    project_id = live_server.cli("project", "create", "SAMEN Utrecht").stdout.strip()
    assert live_server.cli("form", "publish", "--project", project_id, str(first)).returncode == 0
    no_draft = live_server.cli("form", "draft-qr", "--project", project_id, "simple")
    assert no_draft.returncode != 0 and "no draft to test" in no_draft.stderr
    with pyodk_client(live_server.url, tmp_path / "pyodk") as client:
        drafts = FormDraftService(session=client.session, default_project_id=int(project_id))
        assert drafts.create(definition=second, form_id="simple")
        token = client.get(f"projects/{project_id}/forms/simple/draft").json()["draftToken"]

        qr_file = tmp_path / "draft.png"
        shown = live_server.cli("form", "draft-qr", "--project", project_id, "simple", "--qr", str(qr_file))
        assert shown.returncode == 0, shown.stderr
        assert qr_file.read_bytes().startswith(b"\x89PNG")
        url = next(line.split(": ", 1)[1] for line in shown.stdout.splitlines() if line.startswith("Collect server URL"))
        assert url == f"{live_server.url}/v1/test/{token}/projects/{project_id}/forms/simple/draft"

        form_list = requests.get(f"{url}/formList", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS)
        assert form_list.status_code == 200 and form_list.headers["Content-Type"] == "text/xml; charset=utf-8"
        [entry] = etree.fromstring(form_list.content).findall("x:xform", NS)
        assert entry.findtext("x:version", namespaces=NS) == "2026120101"
        download = requests.get(entry.findtext("x:downloadUrl", namespaces=NS), params={"deviceID": DEVICE_ID},
                                headers=COLLECT_HEADERS)
        assert entry.findtext("x:hash", namespaces=NS) == "md5:" + hashlib.md5(download.content).hexdigest()
        assert requests.head(f"{url}/submission", params={"deviceID": DEVICE_ID},
                             headers=COLLECT_HEADERS).status_code == 204
        xml, instance_id = instance("simple", "2026120101", {"city": "utrecht", "photo": "t.jpg"})
        photo = b"\xff\xd8 a test photo"
        sent = requests.post(f"{url}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS,
                             files=collect_multipart(xml, {"t.jpg": photo}))
        assert sent.status_code == 201
        assert etree.fromstring(sent.content).find("r:message", NS).get("nature") == "submit_success"
        tests = client.get(f"projects/{project_id}/forms/simple/draft/submissions").json()
        assert [s["instanceId"] for s in tests] == [instance_id]
        assert client.get(f"projects/{project_id}/forms/simple/submissions").json() == []

        assert drafts.publish(form_id="simple")
        ended = requests.get(f"{url}/formList", headers=COLLECT_HEADERS)
        assert ended.status_code == 404 and "does not exist anymore" in ended.text
        assert requests.post(f"{url}/submission", headers=COLLECT_HEADERS,
                             files=collect_multipart(xml, {"t.jpg": photo})).status_code == 404
        assert client.get(f"projects/{project_id}/forms/simple").json()["version"] == "2026120101"
    assert list((live_server.env_data_dir / "blobs").glob("??/??/*")) == []  # the test photo went with its draft
