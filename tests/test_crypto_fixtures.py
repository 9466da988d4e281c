"""Real ciphertext from ODK Collect (via Briefcase and Central's test suite) decrypts to the known plaintext."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from samen.crypto.decrypt import OAEP_PADDING, file_ivs, submission_decryptor
from samen.crypto.envelope import parse_envelope
from samen.crypto.keys import import_central_managed_key, key_fingerprint, load_private_key_pem
from samen.problems import DecryptionError, WrongPassphraseError

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "encryption"
BRIEFCASE = FIXTURES / "briefcase"
CENTRAL = FIXTURES / "central-backend"
VECTORS = json.loads((CENTRAL / "vectors.json").read_text())


def briefcase_submission(prefix: str):
    """Envelope and ciphertexts of a Briefcase fixture, whose files carry a prefix the envelope omits."""
    envelope = parse_envelope((BRIEFCASE / f"{prefix}submission.xml").read_bytes())
    names = (*envelope.media_files, envelope.encrypted_xml_file)
    return envelope, {name: (BRIEFCASE / f"{prefix}{name}").read_bytes() for name in names}


def test_briefcase_submission_without_media_decrypts_with_a_valid_signature():
    envelope, files = briefcase_submission("encrypted-form-")
    decrypt = submission_decryptor(load_private_key_pem((BRIEFCASE / "encrypted-form-key.pem").read_bytes()))

    result = decrypt(envelope, files)

    assert (result.status, result.signature_valid, result.media) == ("ok", True, {})
    assert b"<name>Guillermo</name>" in result.xml
    assert b"<orx:instanceID>uuid:494cd080-3bf4-47be-b40f-c706a950d58a</orx:instanceID>" in result.xml


def test_briefcase_submission_with_two_jpegs_decrypts_byte_identical():
    envelope, files = briefcase_submission("encrypted-form-media-")
    decrypt = submission_decryptor(load_private_key_pem((BRIEFCASE / "encrypted-form-media-key.pem").read_bytes()))

    result = decrypt(envelope, files)

    assert (result.status, result.signature_valid) == ("ok", True)
    assert list(result.media) == ["1538040007350.jpg", "1538040019351.jpg"]  # envelope order, not sorted by field
    for name, plaintext in result.media.items():
        assert plaintext == (BRIEFCASE / "encrypted-form-media-media" / name).read_bytes()
    # Briefcase's export of the same submission names these values.
    assert b"<name>My name</name><image1>1538040019351.jpg</image1><image2>1538040007350.jpg</image2>" in result.xml


def test_briefcase_media_in_the_wrong_order_fails_rather_than_decrypting_silently():
    envelope, files = briefcase_submission("encrypted-form-media-")
    decrypt = submission_decryptor(load_private_key_pem((BRIEFCASE / "encrypted-form-media-key.pem").read_bytes()))
    first, second = envelope.media_files
    swapped = {**files, first: files[second], second: files[first]}

    # Each JPEG now gets the other's IV: CFB garbles only its first block and the padding still checks out.
    result = decrypt(envelope, swapped)

    assert (result.status, result.signature_valid) == ("signature_invalid", False)


def test_collect_1_22_4_xml_uses_iv_number_one_and_reports_its_missing_media():
    envelope = parse_envelope((CENTRAL / "envelope-two.xml").read_bytes())
    vector = VECTORS["end_to_end"]
    assert envelope.base64_encrypted_key == vector["base64EncryptedKey"]
    assert len(envelope.media_files) == vector["ivIndex"]  # the XML comes after one media file
    decrypt = submission_decryptor(load_private_key_pem((CENTRAL / "priv.pem").read_bytes()))

    result = decrypt(envelope, {"submission.xml.enc": (CENTRAL / vector["ciphertextFile"]).read_bytes()})

    assert result.xml == (CENTRAL / vector["expectedPlaintextFile"]).read_bytes()
    assert (result.status, result.missing_media, result.signature_valid) == ("media_missing", ("1561432532482.jpg",), None)


def test_truncated_collect_ciphertext_is_rejected():
    envelope = parse_envelope((CENTRAL / "envelope-two.xml").read_bytes())
    decrypt = submission_decryptor(load_private_key_pem((CENTRAL / "priv.pem").read_bytes()))
    damaged = (CENTRAL / VECTORS["end_to_end"]["badPaddingCiphertextFile"]).read_bytes()

    with pytest.raises(DecryptionError, match="truncated"):
        decrypt(envelope, {"submission.xml.enc": damaged})


def test_collect_xml_decrypted_with_the_wrong_iv_number_is_rejected():
    # Dropping the media from the envelope makes the XML file number 0 instead of 1.
    text = (CENTRAL / "envelope-two.xml").read_bytes().replace(b"<media><file>1561432532482.jpg.enc</file></media>", b"")
    decrypt = submission_decryptor(load_private_key_pem((CENTRAL / "priv.pem").read_bytes()))

    with pytest.raises(DecryptionError, match="not XML"):
        decrypt(parse_envelope(text), {"submission.xml.enc": (CENTRAL / "e2e-two-submission.xml.enc").read_bytes()})


def test_key_unwrap_vector_uses_oaep_with_sha256_mgf1():
    vector = VECTORS["key_retrieval"]
    private_key = load_private_key_pem((CENTRAL / vector["privateKey"]).read_bytes())

    aes_key = private_key.decrypt(base64.b64decode(vector["base64EncryptedKey"]), OAEP_PADDING)

    assert aes_key == base64.b64decode(vector["expectedAesKeyB64"])


def test_iv_vectors():
    vector = VECTORS["iv_generation"]
    ivs = file_ivs(vector["instanceId"], base64.b64decode(vector["aesKeyB64"]), 32)

    assert [ivs[item["n"]].hex() for item in vector["ivs"]] == [item["iv"] for item in vector["ivs"]]


MANAGED_KEYS = [json.loads((CENTRAL / f"managed-key-{n}.json").read_text()) for n in (0, 1)] + VECTORS["managed_keys"]["keys"]


@pytest.mark.parametrize("archive", MANAGED_KEYS)
def test_central_managed_keys_import_with_their_passphrase(archive):
    private_key = import_central_managed_key(archive, VECTORS["managed_keys"]["passphrase"])

    archived_public_key = load_pem_public_key(base64.b64decode(archive["pubkey"]))
    assert key_fingerprint(private_key.public_key()) == key_fingerprint(archived_public_key)


@pytest.mark.parametrize("passphrase", VECTORS["managed_keys"]["wrongPassphrases"])
@pytest.mark.parametrize("archive", MANAGED_KEYS[:2])
def test_central_managed_keys_refuse_wrong_passphrases(archive, passphrase):
    with pytest.raises(WrongPassphraseError):
        import_central_managed_key(archive, passphrase)
