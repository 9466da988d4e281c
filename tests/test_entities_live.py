"""The offline follow-up loop against a real server: Collect-shaped HTTP with encrypted envelopes, the CLI, pyodk."""

from __future__ import annotations

import pytest
import requests
from lxml import etree
from pyodk.client import Client

from entity_forms import FOLLOWUP, INTAKE, csv_rows, envelope_for, followup_xml, intake_xml
from helpers import COLLECT_HEADERS, DEVICE_ID
from samen.xform import read_xform

pytestmark = pytest.mark.live
PASSPHRASE = "a long custodian passphrase"
NS = {"m": "http://openrosa.org/xforms/xformsManifest", "x": "http://openrosa.org/xforms/xformsList"}


def _cli_ok(live_server, *args: str, input: str | None = None) -> str:
    result = live_server.cli(*args, input=input)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def field(live_server, tmp_path):
    """An encrypted project with intake and follow-up published, and a phone's server URL."""
    project_id = _cli_ok(live_server, "project", "create", "SAMEN Nijmegen").strip()
    _cli_ok(live_server, "key", "create", "--project", project_id, input=f"{PASSPHRASE}\n")
    for name, xml in (("intake", INTAKE), ("followup", FOLLOWUP)):
        (tmp_path / f"{name}.xml").write_bytes(xml)
        _cli_ok(live_server, "form", "publish", "--project", project_id, str(tmp_path / f"{name}.xml"))
    created = _cli_ok(live_server, "app-user", "create", "--project", project_id, "--form", "intake", "--form",
                      "followup", "Ambassador Samira")
    url = next(line.split(": ", 1)[1] for line in created.splitlines() if line.startswith("Collect server URL"))
    return project_id, url


class Phone:
    """Collect's requests: deviceID on every URL, OpenRosa headers, multipart submissions."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, url: str, **headers: str) -> requests.Response:
        return requests.get(url, params={"deviceID": DEVICE_ID}, headers={**COLLECT_HEADERS, **headers}, timeout=30)

    def form(self, form_id: str):
        listed = etree.fromstring(self.get(f"{self.url}/formList").content)
        entry = next(x for x in listed.findall("x:xform", NS) if x.findtext("x:formID", namespaces=NS) == form_id)
        return read_xform(self.get(entry.findtext("x:downloadUrl", namespaces=NS)).content)

    def entity_list(self) -> tuple[list[dict[str, str]], str, str]:
        manifest = etree.fromstring(self.get(f"{self.url}/forms/followup/manifest").content)
        entry = manifest.find("m:mediaFile", NS)
        assert entry.get("type") == "entityList"
        body = self.get(entry.findtext("m:downloadUrl", namespaces=NS))
        assert body.status_code == 200
        return csv_rows(body.content), entry.findtext("m:hash", namespaces=NS), body.headers["ETag"]

    def submit_encrypted(self, form_id: str, instance_id: str, xml: bytes) -> None:
        facts = self.form(form_id)
        envelope, files = envelope_for(facts.public_key, form_id, facts.version, instance_id, xml)
        parts = [("xml_submission_file", ("submission.xml", envelope, "text/xml"))]
        parts += [(name, (name, data, "application/octet-stream")) for name, data in files.items()]
        response = requests.post(f"{self.url}/submission", params={"deviceID": DEVICE_ID}, headers=COLLECT_HEADERS,
                                 files=parts, timeout=30)
        assert response.status_code == 201, response.text


def test_intake_to_follow_up_and_conflict_over_collect_http_and_the_cli(live_server, field):
    project_id, url = field
    phone = Phone(url)
    rows, empty_hash, _ = phone.entity_list()
    assert rows == []

    xml, instance_id, entity_id = intake_xml(phone.form("intake").version, "7K3M9PQ", "rotterdam")
    phone.submit_encrypted("intake", instance_id, xml)
    assert phone.entity_list()[0] == []
    assert "1 submission(s) waiting" in _cli_ok(live_server, "entities", "queue", "--project", project_id)
    wrong = live_server.cli("entities", "process", "--project", project_id, "--passphrase-stdin", input="wrong one\n")
    assert wrong.returncode != 0
    processed = _cli_ok(live_server, "entities", "process", "--project", project_id, "--passphrase-stdin",
                        input=f"{PASSPHRASE}\n")
    assert "Applied 1 submission(s); 0 still waiting." in processed

    rows, created_hash, etag = phone.entity_list()
    assert [(r["name"], r["label"], r["__version"], r["city"]) for r in rows] == [(entity_id, "P-7K3M9PQ", "1", "rotterdam")]
    assert created_hash != empty_hash
    manifest = etree.fromstring(phone.get(f"{url}/forms/followup/manifest").content)
    attachment_url = manifest.find("m:mediaFile", NS).findtext("m:downloadUrl", namespaces=NS)
    assert phone.get(attachment_url, **{"If-None-Match": etag}).status_code == 304

    version = phone.form("followup").version
    update, update_id = followup_xml(version, entity_id, 1, "referred")
    phone.submit_encrypted("followup", update_id, update)
    stale, stale_id = followup_xml(version, entity_id, 1, "closed")
    phone.submit_encrypted("followup", stale_id, stale)
    assert "Applied 2 submission(s)" in _cli_ok(live_server, "entities", "process", "--project", project_id,
                                                 "--passphrase-stdin", input=f"{PASSPHRASE}\n")
    rows, _, _ = phone.entity_list()
    assert (rows[0]["__version"], rows[0]["status"]) == ("3", "closed")

    integrity = phone.get(manifest.find("m:mediaFile", NS).findtext("m:integrityUrl", namespaces=NS)
                          + f"?id={entity_id}")
    assert etree.fromstring(integrity.content).findtext("entities/entity/deleted") == "false"

    with _pyodk(live_server, project_id) as client:
        [entity] = client.entities.list(entity_list_name="participants")
        assert (entity.uuid, entity.conflict, entity.currentVersion.version) == (entity_id, "hard", 3)
        assert entity.creatorId > 0 and isinstance(entity.currentVersion.userAgent, str)


def _pyodk(live_server, project_id: str) -> Client:
    config = live_server.env_data_dir.parent / "pyodk_config.toml"
    config.write_text(
        "[central]\n"
        f'base_url = "{live_server.url}"\n'
        f'username = "{live_server.env["SAMEN_ADMIN_EMAIL"]}"\n'
        f'password = "{live_server.env["SAMEN_ADMIN_PASSWORD"]}"\n'
        f"default_project_id = {project_id}\n"
    )
    return Client(config_path=str(config), cache_path=str(config.with_suffix(".cache.toml")))


def test_pyodk_entity_lists_and_entities(live_server, field):
    project_id, _url = field
    with _pyodk(live_server, project_id) as client:
        names = [entity_list.name for entity_list in client.entity_lists.list()]
        assert names == ["participants"]
        details = client.entity_lists.get(entity_list_name="participants")
        assert {p.name: p.forms for p in details.properties}["status"] == ["intake", "followup"]
        trainings = client.entity_lists.create(entity_list_name="trainings")
        assert (trainings.name, trainings.approvalRequired) == ("trainings", False)
        client.entity_lists.default_entity_list_name = "trainings"
        for name in ("topic", "city"):
            assert client.entity_lists.add_property(name=name, entity_list_name="trainings") is True

        created = client.entities.create(label="Training 1", data={"topic": "consent", "city": "arnhem"},
                                         entity_list_name="trainings")
        assert (created.currentVersion.version, created.currentVersion.data["topic"]) == (1, "consent")
        assert client.entities.create_many(
            data=[{"label": "Training 2", "topic": "safety", "city": "utrecht"},
                  {"label": "Training 3", "topic": "rights", "city": "utrecht"}],
            entity_list_name="trainings", create_source="trainings.csv") is True

        updated = client.entities.update(uuid=created.uuid, entity_list_name="trainings", data={"topic": "boundaries"},
                                         base_version=1)
        assert updated.currentVersion.version == 2
        with pytest.raises(Exception, match="409.15"):
            client.entities.update(uuid=created.uuid, entity_list_name="trainings", label="Stale", base_version=1)
        forced = client.entities.update(uuid=created.uuid, entity_list_name="trainings", label="Training 1b",
                                        force=True)
        assert (forced.currentVersion.version, forced.currentVersion.label) == (3, "Training 1b")

        table = client.entities.get_table(entity_list_name="trainings", filter="city eq 'utrecht'", count=True)
        assert table["@odata.count"] == 2
        assert sorted(row["label"] for row in table["value"]) == ["Training 2", "Training 3"]
        assert {row["__system"]["version"] for row in table["value"]} == {1}

        assert client.entities.delete(uuid=created.uuid, entity_list_name="trainings") is True
        assert len(client.entities.list(entity_list_name="trainings")) == 2
