"""Every SAMEN form, as published by `make run`, filled like a phone would and sent to a live server, then
exported: the export carries the columns the M&E indicators need."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_der_public_key
from lxml import etree

from conftest import REPO
from encryptor import encrypt_submission
from formfill import fill_instance
from helpers import COLLECT_HEADERS, DEVICE_ID
from samen.formset import encrypted_form_ids
from samen.xform import read_xform

pytestmark = pytest.mark.live
PASSPHRASE = "custodian words for the form set"
LIST = "{http://openrosa.org/xforms/xformsList}"

# Per form, the fields the indicators are computed from (samen.report; spec/samen-forms.md).
INDICATOR_FIELDS = {
    "samen_intake": {"consent", "city", "target_group", "participant_code", "referrals_made"},
    "samen_session_feedback": {"session_type", "city", "satisfaction"},
    "samen_prepost_participant": {"phase", "participant_code", "city"},
    "samen_prepost_professional": {"phase", "self_code_normalised", "sector", "city"},
    "samen_ambassador_activity": {"activity_type", "city", "reached_migrant_adults"},
    "samen_referral_followup": {"participant_code", "referral_type", "city"},
}


def test_each_form_downloads_submits_and_exports_with_the_indicator_columns(live_server, tmp_path):
    project_id = live_server.cli("project", "create", "SAMEN Den Haag").stdout.strip()
    created = live_server.cli("key", "create", "--project", project_id, input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert created.returncode == 0, created.stderr
    encrypted = encrypted_form_ids()
    forms = sorted((REPO / "forms").glob("*.xml"))
    assert {path.stem for path in forms} == set(INDICATOR_FIELDS)
    for path in forms:
        options = [] if path.stem in encrypted else ["--no-encrypt"]
        published = live_server.cli("form", "publish", "--project", project_id, *options, str(path))
        assert published.returncode == 0, published.stderr
    phone = live_server.cli("app-user", "create", "--project", project_id,
                            *[arg for path in forms for arg in ("--form", path.stem)], "Ambassador Den Haag")
    url = next(line.split(": ", 1)[1] for line in phone.stdout.splitlines() if line.startswith("Collect server URL"))

    listing = etree.fromstring(requests.get(f"{url}/formList", params={"deviceID": DEVICE_ID},
                                            headers=COLLECT_HEADERS).content)
    downloads = {entry.findtext(f"{LIST}formID"): entry for entry in listing}
    assert set(downloads) == set(INDICATOR_FIELDS)
    for seed, (form_id, entry) in enumerate(sorted(downloads.items())):
        served = requests.get(entry.findtext(f"{LIST}downloadUrl"), headers=COLLECT_HEADERS).content
        assert entry.findtext(f"{LIST}hash") == "md5:" + hashlib.md5(served).hexdigest()
        facts = read_xform(served)
        assert bool(facts.public_key) == (form_id in encrypted)
        xml = fill_instance(served, seed)
        instance_id = re.search(rb"<instanceID>(.*?)</instanceID>", xml).group(1).decode()
        files: dict[str, bytes] = {}
        if facts.public_key:
            public_key = load_der_public_key(base64.b64decode(facts.public_key))
            xml, files = encrypt_submission(public_key, form_id, facts.version, instance_id, xml, [])
        parts = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
        parts += [(name, (name, data, "application/octet-stream")) for name, data in files.items()]
        sent = requests.post(f"{url}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS, files=parts)
        assert sent.status_code == 201, (form_id, sent.text)

    for form_id, needed in INDICATOR_FIELDS.items():
        out = tmp_path / form_id
        exported = live_server.cli("export", "--project", project_id, "--form", form_id, "--format", "csv",
                                   "--passphrase-stdin", "--out", str(out), input=PASSPHRASE + "\n")
        assert exported.returncode == 0, exported.stderr
        [archive] = list(Path(out).iterdir())
        with zipfile.ZipFile(archive) as zipped:
            [row] = list(csv.DictReader(io.StringIO(zipped.read(f"{form_id}.csv").decode("utf-8"))))
        columns = {name.rsplit("-", 1)[-1]: value for name, value in row.items()}
        assert needed <= set(columns), (form_id, needed - set(columns))
        assert row["Status"] == "", (form_id, row["Status"])  # decrypted and parsed
        assert all(columns[field] for field in needed & {"city", "phase", "session_type", "activity_type"}), form_id
