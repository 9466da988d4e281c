"""pyodk's `submissions.get_table` against a live server: paging, filters, select, expand, repeats, encryption.

Submissions are stored in-process through `samen.ingest` on the live server's
own database and blob store; the server (gunicorn in a subprocess) reads them.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from pyodk.errors import PyODKError

from pyodk_client import pyodk_client
from samen.app import Services
from samen.blobs import BlobStore
from samen.config import settings_from_env
from samen.db import Database
from submission_seed import FORM_ID, PASSPHRASE, seed_form, submit

pytestmark = pytest.mark.live
SECRET = "Vertrouwelijk-Antwoord-9034"


@pytest.fixture
def live_services(live_server):
    settings = settings_from_env(live_server.env)
    database = Database(settings.sqlalchemy_url)
    yield Services(settings, database, BlobStore(settings.blob_dir))
    database.dispose()


def test_get_table_pages_filters_selects_and_expands(live_server, live_services, tmp_path):
    seeded = seed_form(live_services, encrypted=False)
    for number in range(7):
        submit(live_services, seeded, f"uuid:live-{number}", f"Person {number}", age=30 + number, visits=number % 2 + 1)

    with pyodk_client(live_server.url, tmp_path / "pyodk", project_id=seeded.project_id) as client:
        page = client.submissions.get_table(FORM_ID, top=3, count=True)
        assert [row["__id"] for row in page["value"]] == ["uuid:live-0", "uuid:live-1", "uuid:live-2"]
        assert page["@odata.count"] == 7
        ids = [row["__id"] for row in page["value"]]
        while "@odata.nextLink" in page:  # pyodk does not follow nextLink: scripts pass the skiptoken on
            query = parse_qs(urlsplit(page["@odata.nextLink"]).query)
            page = client.get(f"projects/{seeded.project_id}/forms/{FORM_ID}.svc/Submissions",
                              params={"$top": 3, "$skiptoken": query["$skiptoken"][0]}).json()
            ids += [row["__id"] for row in page["value"]]
        assert ids == [f"uuid:live-{number}" for number in range(7)]

        skipped = client.submissions.get_table(FORM_ID, skip=5)
        assert [row["age"] for row in skipped["value"]] == [35, 36]

        filtered = client.submissions.get_table(
            FORM_ID, filter="age ge 34 and __system/submissionDate gt 2020-01-01T00:00:00Z", select="__id,age")
        assert filtered["value"] == [{"__id": f"uuid:live-{n}", "age": 30 + n} for n in (4, 5, 6)]

        expanded = client.submissions.get_table(FORM_ID, expand="*", top=2, wkt=True)
        assert [len(row["visit"]) for row in expanded["value"]] == [1, 2]
        assert expanded["value"][0]["location"] == "POINT (5.1214 52.0907 3.5)"

        visits = client.submissions.get_table(FORM_ID, table_name="Submissions.visit", count=True)
        assert visits["@odata.count"] == 1 + 2 + 1 + 2 + 1 + 2 + 1
        assert visits["value"][0]["__Submissions-id"] == "uuid:live-0"
        assert visits["value"][0]["place"]["type"] == "Point"


def test_get_table_on_an_encrypted_form_needs_an_unlock(live_server, live_services, tmp_path):
    seeded = seed_form(live_services, encrypted=True)
    submit(live_services, seeded, "uuid:secret", SECRET)

    with pyodk_client(live_server.url, tmp_path / "pyodk", project_id=seeded.project_id) as client:
        with pytest.raises(PyODKError) as locked:
            client.submissions.get_table(FORM_ID)
        assert "locked" in str(locked.value)

        unlocked = client.post(f"projects/{seeded.project_id}/key/unlock", json={"passphrase": PASSPHRASE})
        assert unlocked.status_code == 200
        table = client.submissions.get_table(FORM_ID)
        assert [row["name"] for row in table["value"]] == [SECRET]

        assert client.post(f"projects/{seeded.project_id}/key/lock").status_code == 200
        with pytest.raises(PyODKError):
            client.submissions.get_table(FORM_ID)
