"""Envelopes as Collect, Enketo and Aggregate write them; broken ones are refused with a reason."""

from __future__ import annotations

import pytest

from samen.crypto.envelope import is_encrypted_envelope, parse_envelope, plain_name
from samen.problems import InvalidXmlError, MalformedRequestError
from samen.safexml import parse_xml

KEY = "QUJD+/=="
SIGNATURE = "U0lH"


def envelope(attributes='id="intake" version="3" encrypted="yes"', body=None, namespace="http://www.opendatakit.org/xforms/encrypted"):
    body = body if body is not None else (
        f"<base64EncryptedKey>{KEY}</base64EncryptedKey>"
        '<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>uuid:abc</orx:instanceID></orx:meta>'
        "<media><file>a.jpg.enc</file></media><media><file>b.m4a.enc</file></media>"
        "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        f"<base64EncryptedElementSignature>{SIGNATURE}</base64EncryptedElementSignature>"
    )
    return f'<data {attributes} xmlns="{namespace}">{body}</data>'.encode()


def test_collect_envelope():
    parsed = parse_envelope(envelope())

    assert (parsed.form_id, parsed.version, parsed.base64_encrypted_key, parsed.instance_id) == ("intake", "3", KEY, "uuid:abc")
    assert (parsed.media_files, parsed.encrypted_xml_file, parsed.signature_b64) == (
        ("a.jpg.enc", "b.m4a.enc"), "submission.xml.enc", SIGNATURE
    )


def test_enketo_envelope_in_the_submissions_namespace_with_file_types():
    body = (
        f"<base64EncryptedKey>{KEY}</base64EncryptedKey>"
        "<meta><instanceID>uuid:enketo</instanceID></meta>"
        '<media><file type="file">z.png.enc</file><file type="file">a.png.enc</file></media>'
        '<encryptedXmlFile type="file">submission.xml.enc</encryptedXmlFile>'
        f"<base64EncryptedElementSignature>{SIGNATURE}</base64EncryptedElementSignature>"
    )
    parsed = parse_envelope(envelope(body=body, namespace="http://opendatakit.org/submissions"))

    assert (parsed.instance_id, parsed.media_files) == ("uuid:enketo", ("z.png.enc", "a.png.enc"))  # never sorted


def test_aggregate_envelope_with_the_instance_id_only_on_the_root():
    body = f"<base64EncryptedKey>{KEY}</base64EncryptedKey><encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
    parsed = parse_envelope(envelope('id="f" encrypted="yes" instanceID="uuid:root"', body))

    assert (parsed.instance_id, parsed.media_files, parsed.signature_b64) == ("uuid:root", (), None)


@pytest.mark.parametrize(("attributes", "version"), [('id="f" encrypted="yes"', None), ('id="f" version="" encrypted="yes"', "")])
def test_absent_and_empty_version_stay_distinct(attributes, version):
    assert parse_envelope(envelope(attributes)).version == version


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (envelope('id="f" encrypted="yes"', "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"), "base64EncryptedKey"),
        (envelope('encrypted="yes"'), "no form id"),
        (envelope(body=f"<base64EncryptedKey>{KEY}</base64EncryptedKey><encryptedXmlFile>x.enc</encryptedXmlFile>"), "instanceID"),
        (envelope().replace(b"a.jpg.enc", b"../../etc/cron.d/x.enc"), "plain file name"),
        (envelope().replace(b"b.m4a.enc", b"a.jpg.enc"), "same file twice"),
        (envelope().replace(b"b.m4a.enc", b"a.jpg"), "same file twice"),
        (b'<data id="intake"><name>plaintext</name></data>', "not an encrypted-submission envelope"),
    ],
    ids=["no-key", "no-form-id", "no-instance-id", "path-in-file-name", "duplicate-file", "duplicate-plain-name", "plaintext"],
)
def test_broken_envelopes_are_refused_with_the_reason(xml, message):
    with pytest.raises(MalformedRequestError, match=message):
        parse_envelope(xml)


@pytest.mark.parametrize("xml", [b"<data", b'<!DOCTYPE data [<!ENTITY x "y">]><data encrypted="yes">&x;</data>'])
def test_xml_that_is_not_well_formed_or_has_a_dtd_is_invalid(xml):
    with pytest.raises(InvalidXmlError):
        parse_envelope(xml)


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (envelope(), True),
        (b'<data xmlns="http://opendatakit.org/submissions"><encryptedXmlFile>s.enc</encryptedXmlFile></data>', True),
        (b'<data id="intake"><name>x</name></data>', False),
        (b'<intake encrypted="yes"/>', False),
    ],
)
def test_is_encrypted_envelope(xml, expected):
    assert is_encrypted_envelope(parse_xml(xml)) is expected


def test_plain_name_drops_only_a_trailing_enc():
    assert [plain_name(n) for n in ("a.jpg.enc", "submission.xml.enc", "enc.jpg")] == ["a.jpg", "submission.xml", "enc.jpg"]
