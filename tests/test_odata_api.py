"""OData and export endpoints through Flask's client, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import zipfile
from urllib.parse import urlsplit

import msoffcrypto
import openpyxl
import pytest

from api_client import sign_in
from submission_seed import FORM_ID, PASSPHRASE, seed_form, submit

SECRET = "Geheim-Antwoord-4412"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def plain(services):
    seeded = seed_form(services, encrypted=False)
    for number in range(5):
        submit(services, seeded, f"uuid:p{number}", f"Person {number}", age=20 + number, visits=number % 3,
               city="rotterdam" if number % 2 else "utrecht")
    user = sign_in(services, "viewer@example.org", roles={seeded.project_id: "viewer"})
    return seeded, user


def svc(seeded) -> str:
    return f"/v1/projects/{seeded.project_id}/forms/{FORM_ID}.svc"


def get(client, user, url, **params):
    return client.get(url, headers=user.headers, query_string=params)


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_service_document_and_metadata(client, plain):
    seeded, user = plain
    document = get(client, user, svc(seeded)).json
    assert document["@odata.context"].endswith(f"{svc(seeded)}/$metadata")
    assert [entry["name"] for entry in document["value"]] == ["Submissions", "Submissions.household.members", "Submissions.visit"]
    metadata = get(client, user, svc(seeded) + "/$metadata")
    assert metadata.status_code == 200 and metadata.mimetype == "application/xml"
    assert b'EntityType Name="Submissions.visit"' in metadata.data


def test_submissions_in_received_order_with_system_properties(client, plain):
    seeded, user = plain
    body = get(client, user, svc(seeded) + "/Submissions").json
    assert body["@odata.context"].endswith("$metadata#Submissions")
    assert [row["__id"] for row in body["value"]] == [f"uuid:p{n}" for n in range(5)]
    first = body["value"][0]
    assert first["__system"]["submitterName"] == "Phone Amira" and first["__system"]["edits"] == 0
    assert first["age"] == 20 and first["location"]["type"] == "Point"
    assert "@odata.nextLink" not in body and "@odata.count" not in body


def test_paging_follows_next_links_to_every_row_once(client, plain):
    seeded, user = plain
    url = svc(seeded) + "/Submissions?$top=2&$count=true"
    seen, counts = [], set()
    while url:
        body = client.get(url, headers=user.headers).json
        seen += [row["__id"] for row in body["value"]]
        counts.add(body["@odata.count"])
        url = relative(body["@odata.nextLink"]) if "@odata.nextLink" in body else None
    assert seen == [f"uuid:p{n}" for n in range(5)] and counts == {5}


def test_skip_top_and_count(client, plain):
    seeded, user = plain
    body = get(client, user, svc(seeded) + "/Submissions", **{"$skip": "3", "$top": "5", "$count": "True"}).json
    assert [row["__id"] for row in body["value"]] == ["uuid:p3", "uuid:p4"]
    assert body["@odata.count"] == 5 and "@odata.nextLink" not in body


@pytest.mark.parametrize("expression, expected", [
    ("age gt 22", ["uuid:p3", "uuid:p4"]),
    ("city eq 'rotterdam' and not (age eq 21)", ["uuid:p3"]),
    ("__id eq 'uuid:p2' or __id eq 'uuid:p0'", ["uuid:p0", "uuid:p2"]),
    ("__system/submissionDate gt 2000-01-01 and __system/reviewState eq null", [f"uuid:p{n}" for n in range(5)]),
    ("year(__system/submissionDate) lt 2000", []),
    ("household/size eq 3 and age le 20", ["uuid:p0"]),
])
def test_filters_on_system_fields_ids_and_answers(client, plain, expression, expected):
    seeded, user = plain
    body = get(client, user, svc(seeded) + "/Submissions", **{"$filter": expression, "$count": "true"}).json
    assert [row["__id"] for row in body["value"]] == expected
    assert body["@odata.count"] == len(expected)


def test_filtered_paging_on_answers_uses_skip(client, plain):
    seeded, user = plain
    first = get(client, user, svc(seeded) + "/Submissions", **{"$filter": "age ge 21", "$top": "2"}).json
    assert [row["__id"] for row in first["value"]] == ["uuid:p1", "uuid:p2"]
    second = client.get(relative(first["@odata.nextLink"]), headers=user.headers).json
    assert [row["__id"] for row in second["value"]] == ["uuid:p3", "uuid:p4"]
    assert "@odata.nextLink" not in second


def test_select_and_expand(client, plain):
    seeded, user = plain
    body = get(client, user, svc(seeded) + "/Submissions",
               **{"$select": "__id,age,household/size,__system/edits", "$top": "1"}).json
    assert body["value"] == [{"__id": "uuid:p0", "age": 20, "household": {"size": 3}, "__system": {"edits": 0}}]
    expanded = get(client, user, svc(seeded) + "/Submissions", **{"$expand": "*", "$top": "3"}).json["value"]
    assert [len(row["visit"]) for row in expanded] == [0, 1, 2]
    assert [member["member_name"] for member in expanded[0]["household"]["members"]] == ["Selam", "Yonas"]
    unknown = get(client, user, svc(seeded) + "/Submissions", **{"$select": "nope"})
    assert unknown.status_code == 400


def test_repeat_tables_single_entities_and_navigation(client, plain):
    seeded, user = plain
    visits = get(client, user, svc(seeded) + "/Submissions.visit", **{"$count": "true"}).json
    assert visits["@odata.context"].endswith("#Submissions.visit") and visits["@odata.count"] == 0 + 1 + 2 + 0 + 1
    assert [row["__Submissions-id"] for row in visits["value"]] == ["uuid:p1", "uuid:p2", "uuid:p2", "uuid:p4"]
    one = get(client, user, svc(seeded) + "/Submissions('uuid:p2')").json["value"]
    assert [row["__id"] for row in one] == ["uuid:p2"]
    link = one[0]["visit@odata.navigationLink"]
    navigated = get(client, user, f"{svc(seeded)}/{link}").json["value"]
    assert [row["__id"] for row in navigated] == [row["__id"] for row in visits["value"][1:3]]
    members = get(client, user, f"{svc(seeded)}/Submissions('uuid:p2')/household/members").json["value"]
    assert [row["member_name"] for row in members] == ["Selam", "Yonas"]
    assert get(client, user, svc(seeded) + "/Submissions('uuid:none')").status_code == 404
    assert get(client, user, svc(seeded) + "/Submissions.nothing").status_code == 404


def test_geopoints_as_wkt(client, plain):
    seeded, user = plain
    row = get(client, user, svc(seeded) + "/Submissions.visit", **{"$wkt": "true", "$top": "1"}).json["value"][0]
    assert row["place"] == "POINT (5.1 52 2)"


@pytest.mark.parametrize("table, options", [
    ("Submissions", {"$apply": "aggregate(age with sum as total)"}),
    ("Submissions.visit", {"$orderby": "visit_date"}),
    ("Submissions", {"$expand": "visit"}),
    ("Submissions", {"$filter": "contains(name, 'P')"}),
])
def test_unsupported_features_are_501(client, plain, table, options):
    seeded, user = plain
    response = get(client, user, f"{svc(seeded)}/{table}", **options)
    assert response.status_code == 501 and response.json["code"] == 501.1


def test_orderby_submission_date_descending(client, plain):
    seeded, user = plain
    body = get(client, user, svc(seeded) + "/Submissions", **{"$orderby": "__system/submissionDate desc", "$top": "2"}).json
    assert [row["__id"] for row in body["value"]] == ["uuid:p4", "uuid:p3"]
    following = client.get(relative(body["@odata.nextLink"]), headers=user.headers).json
    assert [row["__id"] for row in following["value"]] == ["uuid:p2", "uuid:p1"]


def test_collectors_cannot_read_and_strangers_must_sign_in(client, services, plain):
    seeded, _user = plain
    collector = sign_in(services, "collector@example.org", roles={seeded.project_id: "collector"})
    assert get(client, collector, svc(seeded) + "/Submissions").status_code == 403
    assert client.get(svc(seeded) + "/Submissions").status_code == 401


def test_encrypted_form_rows_only_while_unlocked(client, services):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:enc", SECRET, visits=1)
    user = sign_in(services, "custodian@example.org", roles={seeded.project_id: "manager"})
    project = f"/v1/projects/{seeded.project_id}"

    assert get(client, user, svc(seeded) + "/$metadata").status_code == 200
    locked = get(client, user, svc(seeded) + "/Submissions")
    assert locked.status_code == 403 and locked.json["code"] == 403.5
    assert "unlock" in locked.json["message"] and SECRET.encode() not in locked.data

    unlocked = client.post(f"{project}/key/unlock", json={"passphrase": PASSPHRASE}, headers=user.headers)
    assert unlocked.status_code == 200, unlocked.json
    body = get(client, user, svc(seeded) + "/Submissions").json
    assert [row["name"] for row in body["value"]] == [SECRET]
    assert body["value"][0]["__system"]["status"] is None
    assert len(get(client, user, svc(seeded) + "/Submissions.visit").json["value"]) == 1

    other_session = sign_in(services, "colleague@example.org", roles={seeded.project_id: "manager"})
    assert get(client, other_session, svc(seeded) + "/Submissions").status_code == 403  # the unlock is per session

    assert client.post(f"{project}/key/lock", headers=user.headers).status_code == 200
    assert get(client, user, svc(seeded) + "/Submissions").status_code == 403


def csv_rows(data: bytes, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def test_csv_zip_export_with_central_options(client, plain):
    seeded, user = plain
    url = f"/v1/projects/{seeded.project_id}/forms/{FORM_ID}/submissions.csv.zip"
    response = get(client, user, url, attachments="false", splitSelectMultiples="true", groupPaths="false",
                   **{"$filter": "__id ne 'uuid:p0'"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert 'filename="visits.csv.zip"' in response.headers["Content-Disposition"]
    rows = csv_rows(response.data, "visits.csv")
    assert [row["KEY"] for row in rows] == ["uuid:p1", "uuid:p2", "uuid:p3", "uuid:p4"]
    assert rows[0]["needs/legal"] == "1" and rows[0]["size"] == "3"
    answers = get(client, user, url, **{"$filter": "age gt 3"})
    assert answers.status_code == 501


def test_encrypted_csv_export_with_passphrase_in_the_body(client, services):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:enc-csv", SECRET)
    user = sign_in(services, "manager@example.org", roles={seeded.project_id: "manager"})
    url = f"/v1/projects/{seeded.project_id}/forms/{FORM_ID}/submissions.csv.zip"
    keys = client.get(f"/v1/projects/{seeded.project_id}/forms/{FORM_ID}/submissions/keys", headers=user.headers).json
    key_id = str(keys[0]["id"])

    locked = client.get(url, headers=user.headers)
    assert csv_rows(locked.data, "visits.csv")[0]["Status"] == "key locked"
    by_form = client.post(url, data={key_id: PASSPHRASE}, headers=user.headers)
    assert csv_rows(by_form.data, "visits.csv")[0]["name"] == SECRET
    by_json = client.post(url, json={key_id: PASSPHRASE}, headers=user.headers)
    assert csv_rows(by_json.data, "visits.csv")[0]["name"] == SECRET
    wrong = client.post(url, json={key_id: "wrong passphrase"}, headers=user.headers)
    assert wrong.status_code == 400 and SECRET.encode() not in wrong.data


@pytest.mark.parametrize("suffix, media_type", [
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("sav", "application/zip"),  # the form has repeats: a zip of .sav files
    ("jsonl", "application/jsonl"),
])
def test_other_formats_beside_the_csv(client, plain, suffix, media_type):
    seeded, user = plain
    response = get(client, user, f"/v1/projects/{seeded.project_id}/forms/{FORM_ID}/submissions.{suffix}", labels="true")
    assert response.status_code == 200 and response.mimetype == media_type
    assert len(response.data) > 100


def test_an_api_export_can_be_password_protected_and_passphrase_guessing_pauses(client, services):
    seeded = seed_form(services, encrypted=True)
    submit(services, seeded, "uuid:enc-xlsx", SECRET)
    user = sign_in(services, "manager@example.org", roles={seeded.project_id: "manager"})
    url = f"/v1/projects/{seeded.project_id}/forms/{FORM_ID}/submissions.xlsx"
    key_id = str(client.get(f"/v1/projects/{seeded.project_id}/forms/{FORM_ID}/submissions/keys",
                            headers=user.headers).json[0]["id"])

    weak = client.post(url, json={key_id: PASSPHRASE, "protectPassword": "short"}, headers=user.headers)
    assert weak.status_code == 400 and weak.json["details"]["field"] == "protectPassword"
    password = "a password for the analyst"
    protected = client.post(url, json={key_id: PASSPHRASE, "protectPassword": password}, headers=user.headers)
    assert protected.status_code == 200 and protected.headers["Cache-Control"] == "no-store"
    assert SECRET.encode() not in protected.data
    office = msoffcrypto.OfficeFile(io.BytesIO(protected.data))
    office.load_key(password=password)
    opened = io.BytesIO()
    office.decrypt(opened)
    sheet = list(openpyxl.load_workbook(opened, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert sheet[1][sheet[0].index("name")] == SECRET

    for _attempt in range(5):
        assert client.post(url, json={key_id: "a guess"}, headers=user.headers).status_code == 400
    assert client.post(url, json={key_id: PASSPHRASE}, headers=user.headers).status_code == 429
