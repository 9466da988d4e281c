"""The staff console in Debian's Chromium, driven by Playwright, against a live gunicorn server.

One walk through a coordinator's day: sign in, upload an XLSForm, publish it
encrypted, make a phone and see its QR code, receive an encrypted submission
the way Collect sends it, unlock, read it, export it to XLSX, lock again.
Screenshots of every step land in tests/artifacts/ when the walk fails.
"""

from __future__ import annotations

import base64
import io
import re
import uuid
from pathlib import Path

import msoffcrypto
import openpyxl
import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_der_public_key
from sqlalchemy import select

from conftest import REPO, start_live_server
from encryptor import encrypt_submission
from helpers import COLLECT_HEADERS, DEVICE_ID
from samen.db import Database
from samen.models import AppUser
from samen.xform import read_xform

FILE_PASSWORD = "a file password for the M&E officer"

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
ADMIN = ("admin@example.org", "correct horse battery staple")  # what start_live_server's `samen init` creates
PASSPHRASE = "purple lighthouse at dawn"
REMARK = "Needs a Tigrinya-speaking counsellor"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.live,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make system-deps installs it)"),
]


def intake_xlsx() -> bytes:
    """A small XLSForm, written the way coordinators write theirs: survey, choices, settings."""
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (["type", "name", "label"], ["select_one city", "city", "City"], ["integer", "age", "Age"],
                ["text", "remarks", "Remarks"]):
        survey.append(row)
    choices = book.create_sheet("choices")
    for row in (["list_name", "name", "label"], ["city", "rotterdam", "Rotterdam"], ["city", "utrecht", "Utrecht"]):
        choices.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "form_title"])
    settings.append(["intake_test", "2026112801", "Intake test"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class Steps:
    """Keeps a screenshot of each step; writes them out only if the walk fails."""

    def __init__(self, page, name: str) -> None:
        self.page, self.name, self.shots = page, name, []

    def shot(self, step: str) -> None:
        self.shots.append((step, self.page.screenshot(full_page=True)))

    def __enter__(self) -> "Steps":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            return
        folder = ARTIFACTS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        try:
            self.shots.append(("failed", self.page.screenshot(full_page=True)))
        except Exception:  # the page may be gone; the earlier steps are still worth keeping
            pass
        for number, (step, png) in enumerate(self.shots, start=1):
            (folder / f"{number:02d}-{step}.png").write_bytes(png)


@pytest.fixture
def server(tmp_path):
    live = start_live_server(tmp_path / "live", None)
    created = live.cli("project", "create", "SAMEN Rotterdam")
    assert created.returncode == 0, created.stderr
    keyed = live.cli("key", "create", "--project", created.stdout.strip(), "--custodian", "Coordinator Rotterdam",
                     input=PASSPHRASE + "\n")
    assert keyed.returncode == 0, keyed.stderr
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield chromium
        chromium.close()


def submit_like_collect(server, project_id: int, token: str, fields: dict[str, str]) -> str:
    """Download the form as Collect does, encrypt an instance with its public key, POST the envelope."""
    base = f"{server.url}/v1/key/{token}/projects/{project_id}"
    form_xml = requests.get(f"{base}/forms/intake_test.xml", headers=COLLECT_HEADERS, timeout=30).content
    facts = read_xform(form_xml)
    assert facts.public_key, "the published form should carry the project key"
    instance_id = f"uuid:{uuid.uuid4()}"
    body = "".join(f"<{name}>{value}</{name}>" for name, value in fields.items())
    xml = (f'<data id="intake_test" version="{facts.version}">{body}'
           f"<meta><instanceID>{instance_id}</instanceID></meta></data>").encode()
    envelope, files = encrypt_submission(load_der_public_key(base64.b64decode(facts.public_key)), "intake_test",
                                         facts.version, instance_id, xml, [])
    parts = [("xml_submission_file", ("submission.xml", envelope, "text/xml"))]
    parts += [(name, (name, data, "application/octet-stream")) for name, data in files.items()]
    response = requests.post(f"{base}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS,
                             files=parts, timeout=30)
    assert response.status_code == 201, response.text
    return instance_id


def phone_token(server, name: str) -> str:
    database = Database(f"sqlite:///{Path(server.env['SAMEN_DATA_DIR']) / 'samen.db'}")
    with database.session() as session:
        token = session.scalar(select(AppUser.token).where(AppUser.display_name == name))
    database.dispose()
    return token


def test_coordinator_day_from_upload_to_export(server, browser, tmp_path):
    form_file = tmp_path / "intake_test.xlsx"
    form_file.write_bytes(intake_xlsx())
    context = browser.new_context(accept_downloads=True, base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    with Steps(page, "coordinator-day") as steps:
        page.goto("/")
        page.get_by_label("Email address").fill(ADMIN[0])
        page.get_by_label("Password").fill(ADMIN[1])
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="NL", exact=True).wait_for()  # staff accounts start in Dutch
        page.get_by_role("button", name="EN", exact=True).click()
        page.get_by_role("heading", name="Projects").wait_for()
        page.get_by_role("link", name="SAMEN Rotterdam").click()
        steps.shot("project")
        assert page.get_by_text("Coordinator Rotterdam").is_visible()  # the key custodian

        page.get_by_role("link", name="New form").click()
        page.get_by_label("XLSForm (.xlsx, .xls) or XForm (.xml)").set_input_files(str(form_file))
        page.get_by_role("button", name="Upload").click()
        page.get_by_role("heading", name=re.compile("Draft")).wait_for()
        steps.shot("draft")
        page.get_by_role("button", name="Publish").click()
        page.get_by_role("heading", name="Versions").wait_for()
        steps.shot("published")
        assert "2026112801[encrypted:1]" in page.locator(".facts").inner_text()

        page.get_by_role("link", name="SAMEN Rotterdam").first.click()
        page.get_by_role("link", name="Manage phones").click()
        page.get_by_label("Name").fill("Amina")
        page.get_by_label("Intake test").check()
        page.get_by_role("button", name="Create and show QR code").click()
        qr = page.locator("#collect-qr svg")
        qr.wait_for()
        steps.shot("qr-code")
        assert qr.bounding_box()["width"] > 150  # big enough to scan from a screen

        project_id = int(re.search(r"/projects/(\d+)/", page.url).group(1))
        submit_like_collect(server, project_id, phone_token(server, "Amina"),
                            {"city": "rotterdam", "age": "34", "remarks": REMARK})

        page.goto(f"/projects/{project_id}/forms/intake_test/submissions")
        assert page.get_by_text("encrypted — unlock to read").is_visible()
        assert REMARK not in page.content()
        steps.shot("locked")

        page.get_by_role("link", name="Unlock").click()
        dialog = page.locator("#unlock-dialog")
        dialog.get_by_label("Passphrase").fill(PASSPHRASE)
        dialog.get_by_role("button", name="Unlock").click()
        page.get_by_role("cell", name=REMARK).wait_for()
        assert page.get_by_role("cell", name="Rotterdam").is_visible()
        assert re.fullmatch(r"\d+:\d\d", page.locator("[data-countdown]").inner_text())
        steps.shot("unlocked")

        page.get_by_role("link", name="Export").click()
        export = page.locator("#export-dialog")
        export.get_by_label("Format").select_option("xlsx")
        # Encrypted form: the dialog protects the file with a password unless the coordinator says otherwise.
        assert export.get_by_label("Encrypt the file with a password (Excel and 7-Zip ask for it)").is_checked()
        export.get_by_label("Password for the file").fill(FILE_PASSWORD)
        with page.expect_download() as download_info:
            export.get_by_role("button", name="Export").click()
        exported = tmp_path / "export.xlsx"
        download_info.value.save_as(exported)
        export.get_by_text("Done: the download has started.").wait_for()
        steps.shot("exported")
        export.get_by_role("button", name="Close").click()
        opened = io.BytesIO()
        with exported.open("rb") as protected:
            office = msoffcrypto.OfficeFile(protected)
            office.load_key(password=FILE_PASSWORD)
            office.decrypt(opened)
        sheet = openpyxl.load_workbook(opened, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[0]
        assert rows[1][header.index("remarks")] == REMARK
        assert rows[1][header.index("city")] == "rotterdam"

        page.goto(f"/projects/{project_id}/forms/intake_test/submissions")
        page.get_by_role("button", name="Lock now").click()
        page.get_by_text("encrypted — unlock to read").wait_for()
        steps.shot("locked-again")
        assert REMARK not in page.content()
    context.close()
