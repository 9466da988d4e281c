"""Submissions made by tests/encryptor.py (written from the spec) decrypt back exactly, and damage never passes silently."""

from __future__ import annotations

from dataclasses import replace

import pytest
from encryptor import encrypt_submission

from samen.crypto.decrypt import submission_decryptor
from samen.crypto.envelope import parse_envelope
from samen.crypto.keys import generate_private_key
from samen.problems import DecryptionError


@pytest.fixture(scope="module")
def private_key():
    return generate_private_key()


@pytest.fixture(scope="module")
def decrypt(private_key):
    return submission_decryptor(private_key)


def submission_xml(instance_id: str, body: str = "<name>Amal</name>") -> bytes:
    return f'<data id="intake"><meta><instanceID>{instance_id}</instanceID></meta>{body}</data>'.encode()


def encrypt(private_key, xml: bytes, media=(), form_id="intake", version="2024061201", instance_id="uuid:1", **options):
    envelope, files = encrypt_submission(private_key.public_key(), form_id, version, instance_id, xml, list(media), **options)
    return parse_envelope(envelope), files


@pytest.mark.parametrize("count", [0, 1, 17])
def test_round_trip_with_media(private_key, decrypt, count):
    media = [(f"photo-{n}.jpg", bytes([n]) * (1000 + n)) for n in range(count)]
    xml = submission_xml("uuid:media")
    envelope, files = encrypt(private_key, xml, media)

    result = decrypt(envelope, files)

    assert (result.status, result.signature_valid, result.missing_media) == ("ok", True, ())
    assert result.xml == xml
    assert list(result.media.items()) == media  # same names, same bytes, envelope order


def test_ciphertext_sizes_follow_pkcs7_and_an_empty_file_survives(private_key, decrypt):
    envelope, files = encrypt(private_key, submission_xml("uuid:empty"), [("empty.txt", b""), ("sixteen.bin", b"x" * 16)])

    assert (len(files["empty.txt.enc"]), len(files["sixteen.bin.enc"])) == (16, 32)
    assert decrypt(envelope, files).media == {"empty.txt": b"", "sixteen.bin": b"x" * 16}


def test_non_ascii_form_id_version_instance_id_names_and_content(private_key, decrypt):
    instance_id = "uuid:ëñ-ሰላም-سلام"
    xml = submission_xml(instance_id, "<story>Ik voelde me niet veilig — ምስጢር — سرّي</story>")
    media = [("stem-opname-ü.m4a", "geluid ♫".encode())]
    envelope, files = encrypt(private_key, xml, media, form_id="intake-ñ-雪", version="v2 — zomer", instance_id=instance_id)

    result = decrypt(envelope, files)

    assert (envelope.form_id, envelope.version, envelope.instance_id) == ("intake-ñ-雪", "v2 — zomer", instance_id)
    assert (result.status, result.xml, result.media) == ("ok", xml, dict(media))


@pytest.mark.parametrize(
    ("version", "sign_empty_version"),
    [(None, True), ("", True), ("", False)],
    ids=["absent", "empty-signed-as-empty-line", "empty-signed-as-absent"],
)
def test_absent_and_empty_versions_verify(private_key, decrypt, version, sign_empty_version):
    envelope, files = encrypt(private_key, submission_xml("uuid:v"), version=version, sign_empty_version=sign_empty_version)

    assert envelope.version == version
    assert decrypt(envelope, files).status == "ok"


def test_a_version_the_signature_does_not_cover_is_flagged(private_key, decrypt):
    envelope, files = encrypt(private_key, submission_xml("uuid:v"), version="1")

    assert decrypt(replace(envelope, version="2"), files).status == "signature_invalid"


def test_missing_media_are_listed_and_the_rest_decrypted_until_they_arrive(private_key, decrypt):
    media = [("a.jpg", b"first"), ("b.jpg", b"second"), ("c.jpg", b"third")]
    envelope, files = encrypt(private_key, submission_xml("uuid:partial"), media)
    partial = {name: data for name, data in files.items() if name != "b.jpg.enc"}

    early = decrypt(envelope, partial)
    late = decrypt(envelope, files)

    assert (early.status, early.missing_media, early.signature_valid) == ("media_missing", ("b.jpg",), None)
    assert early.media == {"a.jpg": b"first", "c.jpg": b"third"}
    assert (late.status, late.signature_valid, late.media) == ("ok", True, dict(media))


def test_missing_xml_cannot_be_decrypted(private_key, decrypt):
    envelope, files = encrypt(private_key, submission_xml("uuid:noxml"), [("a.jpg", b"a")])

    with pytest.raises(DecryptionError, match="submission.xml.enc has not arrived"):
        decrypt(envelope, {"a.jpg.enc": files["a.jpg.enc"]})


def test_a_submission_for_another_key_is_refused_as_the_wrong_key(private_key, decrypt):
    other_key = generate_private_key()
    envelope, files = encrypt(other_key, submission_xml("uuid:other"))

    with pytest.raises(DecryptionError, match="wrong key"):
        decrypt(envelope, files)


def flipped(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


@pytest.mark.parametrize("target", ["photo.jpg.enc", "submission.xml.enc"])
@pytest.mark.parametrize("position", [0, 40, -20, -1], ids=["first-byte", "middle", "second-last-block", "last-byte"])
def test_a_flipped_byte_is_never_silent(private_key, decrypt, target, position):
    xml = submission_xml("uuid:flip", "<note>" + "veilig " * 20 + "</note>")
    envelope, files = encrypt(private_key, xml, [("photo.jpg", bytes(range(256)) * 4)])
    damaged = {**files, target: flipped(files[target], position)}

    try:
        result = decrypt(envelope, damaged)
    except DecryptionError:
        return  # padding or XML well-formedness caught it
    assert (result.status, result.signature_valid) == ("signature_invalid", False)


def test_a_missing_or_garbled_signature_is_flagged(private_key, decrypt):
    envelope, files = encrypt(private_key, submission_xml("uuid:sig"))
    other, _ = encrypt(private_key, submission_xml("uuid:sig2"), instance_id="uuid:sig2")
    signatures = [None, other.signature_b64, "AAAA"]  # absent, another submission's, not RSA at all

    results = [decrypt(replace(envelope, signature_b64=signature), files) for signature in signatures]

    assert [(result.status, result.signature_valid) for result in results] == [("signature_invalid", False)] * 3


def test_a_decrypted_submission_does_not_show_its_plaintext(private_key, decrypt):
    envelope, files = encrypt(private_key, submission_xml("uuid:repr", "<name>Geheim</name>"), [("a.jpg", b"PIXELS")])

    shown = repr(decrypt(envelope, files)) + repr(decrypt)

    assert "Geheim" not in shown and "PIXELS" not in shown and "a.jpg" in shown
