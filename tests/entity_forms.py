"""Small intake and follow-up forms with an entities sheet, and the submissions Collect makes from them."""

from __future__ import annotations

import base64
import uuid

from cryptography.hazmat.primitives import serialization

from encryptor import encrypt_submission
from helpers import xform

INTAKE_MD = """
| survey   |                 |            |            |         |             |
|          | type            | name       | label      | save_to | calculation |
|          | text            | code       | Code       | code    |             |
|          | select_one city | city       | City       | city    |             |
|          | calculate       | status     |            | status  | 'new'       |
|          | text            | story      | What happened? |     |             |
| choices  |                 |            |            |         |             |
|          | list_name       | name       | label      |         |             |
|          | city            | rotterdam  | Rotterdam  |         |             |
|          | city            | utrecht    | Utrecht    |         |             |
| entities |                 |            |            |         |             |
|          | list_name       | label      |            |         |             |
|          | participants    | concat('P-', ${code}) | |      |             |
| settings |                 |            |            |         |             |
|          | form_id         | version    |            |         |             |
|          | intake          | 1          |            |         |             |
"""

FOLLOWUP_MD = """
| survey   |                                      |             |             |         |
|          | type                                 | name        | label       | save_to |
|          | select_one_from_file participants.csv | participant | Participant |         |
|          | select_one outcome                   | status      | Outcome     | status  |
| choices  |                                      |             |             |         |
|          | list_name                            | name        | label       |         |
|          | outcome                              | referred    | Referred    |         |
|          | outcome                              | closed      | Closed      |         |
| entities |                                      |             |             |         |
|          | list_name                            | entity_id   |             |         |
|          | participants                         | ${participant} |          |         |
| settings |                                      |             |             |         |
|          | form_id                              | version     |             |         |
|          | followup                             | 1           |             |         |
"""

INTAKE = xform(INTAKE_MD)
FOLLOWUP = xform(FOLLOWUP_MD)


def intake_xml(version: str, code: str, city: str, story: str = "a story that stays encrypted") -> tuple[bytes, str, str]:
    """(instance, instanceID, entity uuid) as Collect fills the intake."""
    instance_id, entity_id = f"uuid:{uuid.uuid4()}", str(uuid.uuid4())
    xml = (f'<?xml version="1.0"?><data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" '
           f'id="intake" version="{version}"><code>{code}</code><city>{city}</city><status>new</status>'
           f'<story>{story}</story><meta><entity dataset="participants" create="1" id="{entity_id}">'
           f'<label>P-{code}</label></entity><instanceID>{instance_id}</instanceID></meta></data>')
    return xml.encode(), instance_id, entity_id


def followup_xml(version: str, entity_id: str, base_version: int, status: str) -> tuple[bytes, str]:
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = (f'<?xml version="1.0"?><data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" '
           f'id="followup" version="{version}"><participant>{entity_id}</participant><status>{status}</status>'
           f'<meta><entity dataset="participants" update="1" baseVersion="{base_version}" trunkVersion="" '
           f'branchId="{uuid.uuid4()}" id="{entity_id}"/><instanceID>{instance_id}</instanceID></meta></data>')
    return xml.encode(), instance_id


def envelope_for(public_key_b64: str, form_id: str, version: str, instance_id: str,
                 xml: bytes) -> tuple[bytes, dict[str, bytes]]:
    """What Collect uploads for an encrypted form: the envelope and submission.xml.enc."""
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    return encrypt_submission(public_key, form_id, version, instance_id, xml, [])


def csv_rows(body: bytes) -> list[dict[str, str]]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
