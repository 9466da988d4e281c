"""`samen key …`: several custodians, rotation without loss, Central's managed keys, an offline PEM copy."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from base64 import b64decode

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from conftest import FIXTURES
from helpers import SIMPLE_FORM_MD, make_project, publish, xform
from samen import keyring
from samen.crypto.keys import generate_private_key, load_private_key_pem, public_key_base64
from samen.models import FormVersion, Project
from samen.queries import find_form
from submission_seed import FORM_ID, PASSPHRASE, SeededForm, seed_form, submit

SECOND = "second custodian's own words"
ROTATED = "the passphrase of the new key"


def exported_names(samen, project_id: int, passphrase: str, tmp_path) -> list[str]:
    out = tmp_path / f"out-{len(list(tmp_path.iterdir()))}"
    result = samen("export", "--project", str(project_id), "--form", FORM_ID, "--passphrase-stdin", "--out", str(out),
                   input=passphrase + "\n")
    assert result.exit_code == 0, result.output
    [path] = list(out.iterdir())
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read(f"{FORM_ID}.csv").decode())))
    return sorted(row["name"] for row in rows if row["name"])


def current_version(services, project_id: int) -> str:
    with services.database.session() as session:
        form = find_form(session, project_id, FORM_ID)
        return session.get(FormVersion, form.current_version_id).version


def test_custodians_share_one_key_and_rotation_keeps_everything_readable(services, samen, tmp_path):
    seeded = seed_form(services, encrypted=True)
    pid = str(seeded.project_id)
    submit(services, seeded, "uuid:before-rotation", "Amira")

    added = samen("key", "add-custodian", "--project", pid, "--custodian", "M&E officer", input=f"{PASSPHRASE}\n{SECOND}\n{SECOND}\n")
    assert added.exit_code == 0, added.output
    assert exported_names(samen, seeded.project_id, SECOND, tmp_path) == ["Amira"]  # the second slot opens the same key

    listing = samen("key", "list", "--project", pid).output
    slots = [int(line.split()[1].rstrip(":")) for line in listing.splitlines() if line.strip().startswith("slot")]
    assert len(slots) == 2 and "M&E officer" in listing
    assert samen("key", "remove-custodian", "--project", pid, str(slots[1])).exit_code == 0
    last = samen("key", "remove-custodian", "--project", pid, str(slots[0]))
    assert last.exit_code != 0 and "last custodian" in last.output

    rotated = samen("key", "rotate", "--project", pid, input=f"{ROTATED}\n{ROTATED}\n")
    assert rotated.exit_code == 0, rotated.output
    new_version = current_version(services, seeded.project_id)
    assert new_version.endswith("[encrypted:2]")
    with services.database.session() as session:
        new_key = load_key_for_version(session, seeded.project_id, new_version, ROTATED)
    after = SeededForm(seeded.project_id, new_version, new_key, seeded.actor)
    submit(services, after, "uuid:after-rotation", "Yonas")

    # Each passphrase opens its own key; nothing received before the rotation was lost.
    assert exported_names(samen, seeded.project_id, PASSPHRASE, tmp_path) == ["Amira"]
    assert exported_names(samen, seeded.project_id, ROTATED, tmp_path) == ["Yonas"]


def load_key_for_version(session, project_id: int, version: str, passphrase: str):
    opened = keyring.unlock_with_passphrase(session, project_id, passphrase)
    key_id = int(version.rsplit(":", 1)[1].rstrip("]"))
    return opened[key_id]


def test_central_managed_key_imports_with_its_passphrase_and_exports_as_pem(services, samen, tmp_path):
    with services.database.session() as session:
        project = Project(name="imported")
        session.add(project)
        session.flush()
        pid = str(project.id)
    archive = FIXTURES / "central-backend" / "managed-key-0.json"
    wrong = samen("key", "import", "--project", pid, str(archive), input="wrong\nnew pass phrase\nnew pass phrase\n")
    assert wrong.exit_code != 0 and "passphrase" in wrong.output.lower()
    imported = samen("key", "import", "--project", pid, str(archive),
                     input="supersecret\nnew pass phrase\nnew pass phrase\n")
    assert imported.exit_code == 0, imported.output

    pem = tmp_path / "offline.pem"
    exported = samen("key", "export-pem", "--project", pid, "--out", str(pem), input="new pass phrase\n")
    assert exported.exit_code == 0, exported.output
    assert "Keep it offline" in exported.output
    private_key = load_private_key_pem(pem.read_bytes())
    public = json.loads(archive.read_text())["pubkey"]
    assert private_key.public_key().public_numbers() == load_pem_public_key(b64decode(public)).public_numbers()
    assert oct(pem.stat().st_mode & 0o777) == "0o600"


def test_a_self_keyed_form_keeps_its_own_key_when_the_project_gets_one(services, samen):
    own_key = public_key_base64(generate_private_key().public_key())
    self_keyed = SIMPLE_FORM_MD.replace("|          | form_id  | version  | form_title  |",
                                        "|          | form_id  | version  | form_title  | public_key |")
    self_keyed = self_keyed.replace("| simple   | 2026110101 | Simple form |", f"| simple   | 2026110101 | Simple form | {own_key} |")
    project_id = make_project(services)
    published = publish(services, project_id, xform(self_keyed))
    assert published.public_key == own_key and published.key_id is None

    created = samen("key", "create", "--project", str(project_id), input="project pass phrase\nproject pass phrase\n")
    assert created.exit_code == 0, created.output
    assert "0 form(s) republished" in created.output
    with services.database.session() as session:
        form = find_form(session, project_id, "simple")
        current = session.get(FormVersion, form.current_version_id)
        assert current.id == published.id and current.public_key == own_key
