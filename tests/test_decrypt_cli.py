"""`samen decrypt` over a folder of good, damaged and incomplete submissions (the Briefcase replacement)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from encryptor import encrypt_submission

from samen.cli.decrypt import decrypt_command
from samen.crypto.decrypt import submission_decryptor
from samen.crypto.keys import generate_private_key, load_private_key_pem
from samen.crypto import offline
from samen.crypto.offline import decrypt_folder

BRIEFCASE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "encryption" / "briefcase"
KEY_FILE = BRIEFCASE / "encrypted-form-media-key.pem"  # both Briefcase forms share this key
PHOTO = bytes(range(256)) * 8


def write_submission(folder: Path, envelope: bytes, files: dict[str, bytes]) -> None:
    folder.mkdir()
    (folder / "submission.xml").write_bytes(envelope)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def briefcase_folder(folder: Path, prefix: str) -> None:
    """Briefcase's fixture files carry a prefix the envelope omits; a real instance folder does not."""
    folder.mkdir()
    for path in [BRIEFCASE / f"{prefix}submission.xml", *BRIEFCASE.glob(f"{prefix}*.enc")]:
        shutil.copy(path, folder / path.name.removeprefix(prefix))


def encrypted(public_key, instance_id: str, media: list[tuple[str, bytes]]):
    xml = f'<data id="intake"><meta><instanceID>{instance_id}</instanceID></meta><name>x</name></data>'.encode()
    return encrypt_submission(public_key, "intake", "1", instance_id, xml, media)


@pytest.fixture()
def source(tmp_path) -> Path:
    """good-* decrypt cleanly; the others are each broken in one way."""
    public_key = load_private_key_pem(KEY_FILE.read_bytes()).public_key()
    source = tmp_path / "source"
    source.mkdir()
    briefcase_folder(source / "good-briefcase-media", "encrypted-form-media-")
    write_submission(source / "good-made", *encrypted(public_key, "uuid:good", [("a.jpg", PHOTO)]))

    envelope, files = encrypted(public_key, "uuid:tampered", [("a.jpg", PHOTO)])
    files["a.jpg.enc"] = files["a.jpg.enc"][:100] + bytes([files["a.jpg.enc"][100] ^ 0x80]) + files["a.jpg.enc"][101:]
    write_submission(source / "tampered", envelope, files)

    envelope, files = encrypted(public_key, "uuid:incomplete", [("a.jpg", PHOTO), ("b.jpg", b"second")])
    del files["a.jpg.enc"]
    write_submission(source / "incomplete", envelope, files)

    envelope, files = encrypted(public_key, "uuid:truncated", [])
    files["submission.xml.enc"] = files["submission.xml.enc"][:-3]
    write_submission(source / "truncated", envelope, files)

    write_submission(source / "other-key", *encrypted(generate_private_key().public_key(), "uuid:other", []))
    (source / "no-envelope").mkdir()
    return source


def test_every_folder_gets_a_result_and_only_decryptable_ones_an_output(source, tmp_path):
    out = tmp_path / "out"
    decryptor = submission_decryptor(load_private_key_pem(KEY_FILE.read_bytes()))

    results = {result.folder: result for result in decrypt_folder(source, out, decryptor)}

    assert {name: result.status for name, result in results.items()} == {
        "good-briefcase-media": "ok",
        "good-made": "ok",
        "incomplete": "media_missing",
        "no-envelope": "failed",
        "other-key": "failed",
        "tampered": "signature_invalid",
        "truncated": "failed",
    }
    assert "wrong key" in results["other-key"].reason and "truncated" in results["truncated"].reason
    assert "a.jpg" in results["incomplete"].reason and "submission.xml" in results["no-envelope"].reason
    assert sorted(path.name for path in out.iterdir()) == ["good-briefcase-media", "good-made", "incomplete", "tampered"]
    for name in ("1538040007350.jpg", "1538040019351.jpg"):
        assert (out / "good-briefcase-media" / name).read_bytes() == (BRIEFCASE / "encrypted-form-media-media" / name).read_bytes()
    assert b"<name>My name</name>" in (out / "good-briefcase-media" / "submission.xml").read_bytes()
    assert sorted(path.name for path in (out / "incomplete").iterdir()) == ["b.jpg", "submission.xml"]
    assert (out / "good-made" / "a.jpg").read_bytes() == PHOTO


def test_a_second_run_leaves_earlier_output_untouched(source, tmp_path):
    out = tmp_path / "out"
    decryptor = submission_decryptor(load_private_key_pem(KEY_FILE.read_bytes()))
    decrypt_folder(source, out, decryptor)
    (out / "good-made" / "a.jpg").write_bytes(b"edited by hand")

    again = {result.folder: result for result in decrypt_folder(source, out, decryptor)}

    assert again["good-made"].status == "failed" and "exists already" in again["good-made"].reason
    assert (out / "good-made" / "a.jpg").read_bytes() == b"edited by hand"


def test_a_failure_while_writing_leaves_no_partial_output(tmp_path, monkeypatch):
    private_key = load_private_key_pem(KEY_FILE.read_bytes())
    source, out = tmp_path / "source", tmp_path / "out"
    source.mkdir()
    write_submission(source / "one", *encrypted(private_key.public_key(), "uuid:one", [("a.jpg", PHOTO)]))
    written = []

    def disk_full_after_one_file(path, data):
        if written:
            raise OSError(28, "No space left on device", str(path))
        written.append(path)
        path.write_bytes(data)

    monkeypatch.setattr(offline, "_write_new_file", disk_full_after_one_file)
    [result] = decrypt_folder(source, out, submission_decryptor(private_key))

    assert (result.status, result.reason.startswith("No space left on device")) == ("failed", True)
    assert len(written) == 1 and list(out.iterdir()) == []


def test_cli_prints_a_summary_and_exits_1_when_anything_is_not_ok(source, tmp_path):
    result = CliRunner().invoke(
        decrypt_command, ["--key", str(KEY_FILE), str(source), str(tmp_path / "out")], env={"COLUMNS": "250"}
    )

    assert result.exit_code == 1, result.output
    for text in ("good-made", "uuid:tampered", "signature invalid", "media missing", "failed", "wrong key"):
        assert text in result.output
    assert "2 ok, 1 signature invalid, 1 media missing, 3 failed" in result.output


def test_cli_reads_the_passphrase_of_an_encrypted_pem_from_stdin(tmp_path):
    private_key = generate_private_key()
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"s3cret")
        )
    )
    source = tmp_path / "source"
    source.mkdir()
    write_submission(source / "one", *encrypted(private_key.public_key(), "uuid:one", [("a.jpg", PHOTO)]))
    arguments = ["--key", str(key_file), "--passphrase-stdin", str(source), str(tmp_path / "out")]

    wrong = CliRunner().invoke(decrypt_command, arguments, input="not-it\n")
    right = CliRunner().invoke(decrypt_command, arguments, input="s3cret\n", env={"COLUMNS": "250"})

    assert wrong.exit_code == 1 and "passphrase" in wrong.output and "not-it" not in wrong.output
    assert right.exit_code == 0, right.output
    assert "1 ok" in right.output and (tmp_path / "out" / "one" / "a.jpg").read_bytes() == PHOTO


def test_cli_refuses_a_file_that_is_not_a_key(tmp_path):
    key_file = tmp_path / "key.pem"
    key_file.write_text("not a key")

    result = CliRunner().invoke(decrypt_command, ["--key", str(key_file), str(tmp_path), str(tmp_path / "out")])

    assert result.exit_code == 1 and "not a PEM private key" in result.output
