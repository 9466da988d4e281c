"""Console pages through Flask's client: upload and publish, phones, unlock and read, filters, review, export."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import datetime, timedelta, timezone

import msoffcrypto
import openpyxl
import pytest
from cryptography.hazmat.primitives.serialization import load_der_public_key
from sqlalchemy import select

from console_client import make_user, post_form, sign_in
from encryptor import encrypt_submission
from helpers import COLLECT_HEADERS, SIMPLE_FORM_MD, instance, make_phone, make_project, multipart, publish, xform
from samen import keyring
from samen.collect_settings import collect_settings, qr_svg, settings_payload
from samen.models import AppUser, AuditEvent, Form, FormAssignment, FormVersion, KeyUnlock, Project, Submission

PASSPHRASE = "purple lighthouse at dawn"
VERSION = "2026110101"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


def xlsx(*survey_rows: list[str], form_id: str = "intake_test") -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (["type", "name", "label"], *survey_rows):
        survey.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version"])
    settings.append([form_id, "1"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def project_id(services):
    return make_project(services)


@pytest.fixture
def client(app, services, project_id):
    client = app.test_client()
    make_user(services, "admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    return client


def upload(client, url: str, data: bytes, filename: str, from_page: str):
    return post_form(client, url, {"definition": (io.BytesIO(data), filename), "encrypt": "yes"}, from_page=from_page)


def test_upload_shows_pyxform_warnings_with_their_row_and_publish_makes_a_version(client, services, project_id):
    form = xlsx(["integer", "age", "Age"], ["image", "photo", "Photo"])
    uploaded = upload(client, f"/projects/{project_id}/forms", form, "intake_test.xlsx", f"/projects/{project_id}/new-form")
    assert uploaded.status_code == 200
    assert "[row : 3] Use the max-pixels parameter" in uploaded.get_data(as_text=True)
    with services.database.session() as session:
        stored = session.scalar(select(Form))
        assert stored.draft_version_id is not None and stored.current_version_id is None
    form_page = f"/projects/{project_id}/forms/intake_test"
    published = post_form(client, f"{form_page}/publish", from_page=form_page)
    assert published.status_code == 302
    page = client.get(form_page).get_data(as_text=True)
    assert 'id="publish"' not in page
    with services.database.session() as session:
        [version] = session.scalars(select(FormVersion).where(FormVersion.published_at.is_not(None))).all()
        assert version.version == "1" and version.public_key is None  # the project has no key
    assert "<td>1</td>" in page


def test_an_xlsform_error_names_the_sheet_and_row_and_stores_nothing(client, services, project_id):
    broken = xlsx(["integer", "age", "Age"], ["integer", "age", "Age again"])
    response = upload(client, f"/projects/{project_id}/forms", broken, "intake_test.xlsx", f"/projects/{project_id}/new-form")
    assert response.status_code == 400
    assert "[row : 3] On the &#39;survey&#39; sheet, the &#39;name&#39; value &#39;age&#39; is invalid" in response.get_data(as_text=True)
    with services.database.session() as session:
        assert session.scalar(select(Form)) is None


def test_a_form_page_refuses_a_definition_of_another_form(client, services, project_id):
    publish(services, project_id, xform(SIMPLE_FORM_MD), encrypt=False)
    form_page = f"/projects/{project_id}/forms/simple"
    response = upload(client, f"{form_page}/draft", xlsx(["integer", "age", "Age"], form_id="other"), "other.xlsx", form_page)
    assert response.status_code == 400
    assert "This file is the form &#39;other&#39;, not &#39;simple&#39;" in response.get_data(as_text=True)


def test_an_app_user_gets_a_qr_code_for_its_own_token_and_revoking_locks_the_phone_out(client, services, project_id):
    publish(services, project_id, xform(SIMPLE_FORM_MD), encrypt=False)
    with services.database.session() as session:
        form_id = session.scalar(select(Form.id))
    created = post_form(client, f"/projects/{project_id}/app-users", {"display_name": "Amina – Rotterdam", "form": str(form_id)})
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    with services.database.session() as session:
        app_user = session.scalar(select(AppUser))
        assert session.scalar(select(FormAssignment.form_id)) == form_id
    url = f"http://localhost/v1/key/{app_user.token}/projects/{project_id}"
    assert qr_svg(settings_payload(collect_settings(url, "SAMEN Rotterdam")), scale=5) in page
    phone_list = f"/v1/key/{app_user.token}/projects/{project_id}/formList"
    assert client.get(phone_list, headers=COLLECT_HEADERS).status_code == 200
    revoked = post_form(client, f"/projects/{project_id}/app-users/{app_user.id}/revoke", from_page=created.headers["Location"])
    assert revoked.status_code == 302
    assert client.get(phone_list, headers=COLLECT_HEADERS).status_code == 403
    assert "<svg" not in client.get(created.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def encrypted_submission(services, project_id):
    """A keyed project, the simple form published encrypted, and one submission sent as Collect encrypts it."""
    with services.database.session() as session:
        keyring.create_key(session, session.get(Project, project_id), PASSPHRASE, custodian="Coordinator Rotterdam")
    version = publish(services, project_id, xform(SIMPLE_FORM_MD), encrypt=True)
    phone = make_phone(services, project_id, ["simple"])
    xml, instance_id = instance("simple", version.version, {"city": "rotterdam", "age_band": "2",
                                                           "remarks": "needs a Tigrinya interpreter", "photo": "p.jpg"})
    envelope, files = encrypt_submission(load_der_public_key(base64.b64decode(version.public_key)), "simple",
                                         version.version, instance_id, xml, [("p.jpg", JPEG)])
    return phone, envelope, files, instance_id


def send(app, phone, envelope, files) -> None:
    response = app.test_client().post(f"{phone.prefix}/submission", data=multipart(envelope, files),
                                      headers=COLLECT_HEADERS, content_type="multipart/form-data")
    assert response.status_code == 201


def test_unlock_reads_answers_and_media_in_this_browser_only_until_locked(app, client, services, project_id,
                                                                           encrypted_submission):
    phone, envelope, files, instance_id = encrypted_submission
    send(app, phone, envelope, files)
    table = f"/projects/{project_id}/forms/simple/submissions"
    locked = client.get(table).get_data(as_text=True)
    assert "encrypted — unlock to read" in locked and "Tigrinya" not in locked

    wrong = post_form(client, f"/projects/{project_id}/unlock", {"passphrase": "wrong", "next": table}, from_page=table)
    assert wrong.status_code == 400 and "does not unlock" in wrong.get_data(as_text=True)
    right = post_form(client, f"/projects/{project_id}/unlock", {"passphrase": PASSPHRASE, "next": table}, from_page=table)
    assert right.status_code == 302 and right.headers["Location"] == table

    unlocked = client.get(table).get_data(as_text=True)
    assert "needs a Tigrinya interpreter" in unlocked and "Rotterdam" in unlocked and "data-countdown" in unlocked
    page = client.get(f"{table}/{instance_id}").get_data(as_text=True)
    assert "needs a Tigrinya interpreter" in page and "p.jpg" in page
    media = client.get(f"{table}/{instance_id}/media/p.jpg")
    assert media.data == JPEG and media.mimetype == "image/jpeg"
    assert "sandbox" in media.headers["Content-Security-Policy"]
    assert "Submissions per city" in client.get(f"/projects/{project_id}").get_data(as_text=True)

    with client.session_transaction() as cookie:
        token = cookie["console_token"]
    with services.database.session() as session:
        [unlock] = session.scalars(select(KeyUnlock)).all()
        assert unlock.holder_sha256 == hashlib.sha256(token.encode()).hexdigest()
    other_browser = app.test_client()
    sign_in(other_browser, "admin@example.org")
    assert "Tigrinya" not in other_browser.get(table).get_data(as_text=True)  # the same person, another session

    post_form(client, f"/projects/{project_id}/lock", {"next": table}, from_page=table)
    assert "Tigrinya" not in client.get(table).get_data(as_text=True)
    assert client.get(f"{table}/{instance_id}/media/p.jpg").status_code == 404
    with services.database.session() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
        purposes = {e.details["purpose"] for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.decrypt"))}
    assert {"key.unlock.failure", "key.unlock", "key.lock"} <= set(actions)
    assert {"console.table", "console.submission", "console.media", "console.chart"} <= purposes


def test_export_downloads_the_unlocked_answers_as_xlsx_with_labels(app, client, services, project_id, encrypted_submission):
    phone, envelope, files, _instance_id = encrypted_submission
    send(app, phone, envelope, files)
    export_page = f"/projects/{project_id}/forms/simple/export"
    post_form(client, f"/projects/{project_id}/unlock", {"passphrase": PASSPHRASE}, from_page=export_page)
    response = post_form(client, export_page, {"format": "xlsx", "labels": "labels"}, from_page=export_page)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''simple.xlsx"
    assert response.headers["X-Export-Total"] == "1"
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[1][rows[0].index("City")] == "Rotterdam"
    assert rows[1][rows[0].index("Remarks")] == "needs a Tigrinya interpreter"


def test_a_protected_export_opens_only_with_its_password_and_stays_until_it_expires(
        app, client, services, project_id, encrypted_submission):
    phone, envelope, files, _instance_id = encrypted_submission
    send(app, phone, envelope, files)
    export_page = f"/projects/{project_id}/forms/simple/export"
    post_form(client, f"/projects/{project_id}/unlock", {"passphrase": PASSPHRASE}, from_page=export_page)
    too_short = post_form(client, export_page, {"format": "xlsx", "protect": "yes", "password": "short"},
                          from_page=export_page)
    assert too_short.status_code == 400 and "at least 12 characters" in too_short.get_data(as_text=True)
    password = "twelve or more characters"
    response = post_form(client, export_page, {"format": "xlsx", "protect": "yes", "password": password},
                         from_page=export_page)
    assert response.status_code == 200
    with pytest.raises(Exception):  # an encrypted Office file is not a plain workbook
        openpyxl.load_workbook(io.BytesIO(response.data))
    office = msoffcrypto.OfficeFile(io.BytesIO(response.data))
    office.load_key(password=password)
    opened = io.BytesIO()
    office.decrypt(opened)
    rows = list(openpyxl.load_workbook(opened, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[1][rows[0].index("remarks")] == "needs a Tigrinya interpreter"
    kept = list(services.settings.export_dir.iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == response.data  # only the protected file is on disk


def submit_plain(app, phone, city: str, at: datetime | None = None, services=None) -> str:
    xml, instance_id = instance("simple", VERSION, {"city": city, "age_band": "3"})
    send(app, phone, xml, {})
    if at is not None:
        with services.database.session() as session:
            session.scalar(select(Submission).where(Submission.instance_id == instance_id)).created_at = at
    return instance_id


def row_count(html: str) -> int:
    return html.count("/submissions/uuid:")


def test_the_table_pages_and_filters_by_city_date_and_review_state(app, client, services, project_id):
    publish(services, project_id, xform(SIMPLE_FORM_MD), encrypt=False)
    phone = make_phone(services, project_id, ["simple"])
    for _ in range(27):
        submit_plain(app, phone, "rotterdam")
    long_ago = datetime(2026, 1, 15, 12, tzinfo=timezone.utc)
    old = [submit_plain(app, phone, "utrecht", long_ago, services) for _ in range(2)]
    table = f"/projects/{project_id}/forms/simple/submissions"
    assert row_count(client.get(table).get_data(as_text=True)) == 25
    assert row_count(client.get(f"{table}?page=2").get_data(as_text=True)) == 4
    assert row_count(client.get(f"{table}?city=Utrecht").get_data(as_text=True)) == 2
    assert row_count(client.get(f"{table}?from=2026-01-15&to=2026-01-15").get_data(as_text=True)) == 2
    assert row_count(client.get(f"{table}?to=2026-01-14").get_data(as_text=True)) == 0
    page = f"{table}/{old[0]}"
    post_form(client, f"{page}/review", {"review_state": "approved"}, from_page=page)
    approved = client.get(f"{table}?review=approved").get_data(as_text=True)
    assert row_count(approved) == 1 and old[0] in approved
    assert row_count(client.get(f"{table}?review=received").get_data(as_text=True)) == 25


def test_comments_are_kept_escaped_and_audited(app, client, services, project_id):
    publish(services, project_id, xform(SIMPLE_FORM_MD), encrypt=False)
    phone = make_phone(services, project_id, ["simple"])
    instance_id = submit_plain(app, phone, "rotterdam")
    page = f"/projects/{project_id}/forms/simple/submissions/{instance_id}"
    post_form(client, f"{page}/comments", {"body": "Called back <b>twice</b>"}, from_page=page)
    html = client.get(page).get_data(as_text=True)
    assert "Called back &lt;b&gt;twice&lt;/b&gt;" in html
    with services.database.session() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.comment")).details["instanceId"] == instance_id


def test_the_project_page_counts_submissions_per_day(app, client, services, project_id):
    publish(services, project_id, xform(SIMPLE_FORM_MD), encrypt=False)
    phone = make_phone(services, project_id, ["simple"])
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    submit_plain(app, phone, "rotterdam")
    submit_plain(app, phone, "utrecht", yesterday, services)
    submit_plain(app, phone, "utrecht", yesterday, services)
    html = client.get(f"/projects/{project_id}").get_data(as_text=True)
    from samen.console.web import DISPLAY_ZONE

    assert f"<title>{yesterday.astimezone(DISPLAY_ZONE).date().isoformat()}: 2</title>" in html
    assert "<title>Utrecht: 2</title>" in html and "<title>Rotterdam: 1</title>" in html


def test_the_report_needs_an_unlock_and_downloads_as_pdf_without_codes(app, client, services, project_id,
                                                                        encrypted_submission):
    phone, envelope, files, _instance_id = encrypted_submission
    send(app, phone, envelope, files)
    report_page = f"/projects/{project_id}/report"
    assert "Report" in client.get(f"/projects/{project_id}").get_data(as_text=True)
    locked = post_form(client, report_page, {"language": "en", "format": "pdf"}, from_page=report_page)
    assert locked.status_code == 400 and "Unlock the project key first" in locked.get_data(as_text=True)
    post_form(client, f"/projects/{project_id}/unlock", {"passphrase": PASSPHRASE}, from_page=report_page)
    pdf = post_form(client, report_page, {"language": "en", "format": "pdf", "from": "2026-01-01"}, from_page=report_page)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    html = post_form(client, report_page, {"language": "nl", "format": "html"}, from_page=report_page)
    assert html.headers["Content-Disposition"].endswith(".html")
    assert "needs a Tigrinya interpreter" not in html.get_data(as_text=True)  # no free text in a report
    with services.database.session() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action == "report.generate")).all()
        assert len(actions) == 2


def test_someone_without_a_role_in_the_project_gets_no_report(app, services, project_id):
    make_user(services, "outsider@example.org")
    outsider = app.test_client()
    sign_in(outsider, "outsider@example.org")
    assert outsider.get(f"/projects/{project_id}/report").status_code == 404
