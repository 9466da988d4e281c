"""Decrypt one ODK submission, inside a closure that holds the private key.

Like ODK Central's `submissionDecryptor(keys, passphrases)`, the private key
is captured once by `submission_decryptor` and never passed around again;
callers hold a function from (envelope, ciphertexts) to plaintext.

The scheme is the one in `spec/encryption.md`: RSA-OAEP (SHA-256, MGF1-SHA-256)
wraps a per-submission AES-256 key; each file is AES-256-CFB128 over PKCS#7
padding with an IV derived from the instanceID; an MD5 "signature" wrapped
with the same RSA-OAEP covers every plaintext. Exactly two RSA private-key
operations per submission: unwrapping the key and the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from samen.crypto.envelope import Envelope, plain_name
from samen.crypto.keys import SECRET_BYTES, RsaPrivateKey
from samen.problems import DecryptionError, InvalidXmlError
from samen.safexml import parse_xml

# BouncyCastle's RSA/NONE/OAEPWithSHA256AndMGF1Padding, as Collect and Enketo use it. MGF1-SHA-1 fails on real data.
OAEP_PADDING = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
_BLOCK = 16

Status = Literal["ok", "signature_invalid", "media_missing"]


@dataclass(frozen=True, repr=False)
class DecryptedSubmission:
    """The plaintext of one submission and how far it can be trusted.

    `status` is "media_missing" whenever a listed media file has not arrived,
    whatever else is true: the signature covers every file, so it cannot be
    checked until all are present (`signature_valid` is then None). What has
    arrived is decrypted all the same. Otherwise "ok" or "signature_invalid";
    an envelope without a signature counts as invalid, because Collect and
    Enketo always sign and only damage removes it.
    """

    status: Status
    xml: bytes
    media: dict[str, bytes]  # Plain name -> plaintext, in envelope order.
    missing_media: tuple[str, ...]  # Plain names of listed media that have not arrived.
    signature_valid: bool | None

    def __repr__(self) -> str:  # The plaintext is the sensitive part: never show it.
        return (
            f"DecryptedSubmission(status={self.status!r}, xml=<{len(self.xml)} bytes>, "
            f"media={list(self.media)!r}, missing_media={self.missing_media!r})"
        )


Decryptor = Callable[[Envelope, Mapping[str, bytes]], DecryptedSubmission]


def file_ivs(instance_id: str, aes_key: bytes, count: int) -> list[bytes]:
    """The IVs of files 0..count-1: seed = MD5(instanceID + key); bump seed[c % 16] before file c."""
    seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + aes_key, usedforsecurity=False).digest())
    ivs = []
    for number in range(count):
        seed[number % _BLOCK] = (seed[number % _BLOCK] + 1) % 256
        ivs.append(bytes(seed))
    return ivs


def decrypt_file(aes_key: bytes, iv: bytes, ciphertext: bytes, file_name: str) -> bytes:
    """AES-256-CFB128 then PKCS#7 removal; DecryptionError if the length or padding shows damage."""
    if not ciphertext or len(ciphertext) % _BLOCK:
        raise DecryptionError(
            f"{file_name} is truncated ({len(ciphertext)} bytes, not a whole number of 16-byte blocks): "
            "send it again from the device.",
            file=file_name,
        )
    # CFB is "decrepit" to `cryptography` (no integrity), but it is what every ODK client writes.
    decryptor = Cipher(algorithms.AES(aes_key), CFB(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= _BLOCK or padded[-pad:] != bytes((pad,)) * pad:
        raise DecryptionError(
            f"{file_name} is damaged: its padding is wrong after decryption (truncated or altered ciphertext).",
            file=file_name,
        )
    return padded[:-pad]


def signature_digests(envelope: Envelope, plaintext_md5s: list[tuple[str, str]]) -> list[bytes]:
    """The MD5 digests a valid signature may carry: with and without an empty version line.

    Collect writes the version line whenever the attribute exists, even empty;
    Briefcase leaves an empty version out. Both readings are accepted.
    """
    tail = [envelope.base64_encrypted_key, envelope.instance_id, *(f"{name}::{md5}" for name, md5 in plaintext_md5s)]
    versions = [[envelope.version]] if envelope.version else [[]]
    if envelope.version == "":
        versions.append([""])
    return [
        hashlib.md5(("\n".join([envelope.form_id, *version, *tail]) + "\n").encode("utf-8"), usedforsecurity=False).digest()
        for version in versions
    ]


def submission_decryptor(private_key: RsaPrivateKey) -> Decryptor:
    """A function that decrypts submissions for this private key; the key stays inside it."""

    def unwrap(base64_text: str, what: str) -> bytes:
        try:
            return private_key.decrypt(base64.b64decode(base64_text), OAEP_PADDING)
        except (ValueError, binascii.Error):
            raise DecryptionError(
                f"The submission's {what} does not open with this project key: it was encrypted for another key "
                "(the wrong key, or one rotated out) or the envelope is damaged."
            ) from None

    def decrypt_submission(envelope: Envelope, files: Mapping[str, bytes]) -> DecryptedSubmission:
        """Decrypt everything that has arrived; `files` maps envelope file names (with .enc) to ciphertext."""
        if envelope.encrypted_xml_file not in files:
            raise DecryptionError(
                f"{envelope.encrypted_xml_file} has not arrived yet, so there is nothing to decrypt: "
                "send the submission again from the device.",
                file=envelope.encrypted_xml_file,
            )
        aes_key = unwrap(envelope.base64_encrypted_key, "AES key")
        if len(aes_key) != SECRET_BYTES:
            raise DecryptionError("The submission's key is not a 32-byte AES key: the envelope is damaged.")
        ivs = file_ivs(envelope.instance_id, aes_key, len(envelope.media_files) + 1)
        media: dict[str, bytes] = {}
        missing: list[str] = []
        for name, iv in zip(envelope.media_files, ivs):
            if name in files:
                media[plain_name(name)] = decrypt_file(aes_key, iv, files[name], name)
            else:
                missing.append(plain_name(name))
        xml = decrypt_file(aes_key, ivs[-1], files[envelope.encrypted_xml_file], envelope.encrypted_xml_file)
        try:
            parse_xml(xml)
        except InvalidXmlError:
            # CFB with a wrong IV or a flipped byte still passes the padding check; the XML shows it.
            raise DecryptionError(
                f"{envelope.encrypted_xml_file} decrypts to something that is not XML: the ciphertext is damaged.",
                file=envelope.encrypted_xml_file,
            ) from None
        if missing:
            return DecryptedSubmission("media_missing", xml, media, tuple(missing), None)
        valid = envelope.signature_b64 is not None and _signature_matches(envelope, media, xml)
        return DecryptedSubmission("ok" if valid else "signature_invalid", xml, media, (), valid)

    def _signature_matches(envelope: Envelope, media: dict[str, bytes], xml: bytes) -> bool:
        try:
            signed = unwrap(envelope.signature_b64 or "", "signature")
        except DecryptionError:
            return False
        md5s = [(name, _md5_hex(data)) for name, data in media.items()]
        md5s.append((plain_name(envelope.encrypted_xml_file), _md5_hex(xml)))
        return any(hmac.compare_digest(signed, digest) for digest in signature_digests(envelope, md5s))

    return decrypt_submission


def _md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
