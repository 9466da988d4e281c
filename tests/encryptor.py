"""An ODK-compatible submission encryptor, written from spec/encryption.md for tests and benches.

It deliberately shares no code with `samen.crypto`, so a misreading of the
spec in one would show up as a failure against the other. It does what
Collect's EncryptionUtils does: a fresh AES-256 key per submission, wrapped
with RSA-OAEP (SHA-256, MGF1-SHA-256); each file AES-256-CFB128 over PKCS#7,
media first in the order given, the XML last; an MD5 signature over
everything, wrapped the same way.
"""

from __future__ import annotations

import base64
import hashlib
import os
from xml.sax.saxutils import escape, quoteattr

from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
_ENVELOPE_NS = "http://www.opendatakit.org/xforms/encrypted"


def encrypt_submission(
    public_key: rsa.RSAPublicKey,
    form_id: str,
    version: str | None,
    instance_id: str,
    xml: bytes,
    media: list[tuple[str, bytes]],
    *,
    sign_empty_version: bool = True,
) -> tuple[bytes, dict[str, bytes]]:
    """Envelope XML and {file name with .enc: ciphertext}, as Collect would upload them.

    `version=None` leaves the attribute out; `""` writes `version=""`. Collect
    signs an empty version as an empty line (`sign_empty_version=True`);
    False signs it as if absent, the other reading a decryptor must accept.
    """
    aes_key = os.urandom(32)
    seed = bytearray(hashlib.md5(instance_id.encode("utf-8") + aes_key).digest())
    files: dict[str, bytes] = {}
    signed_lines = [form_id]
    if version is not None and (version or sign_empty_version):
        signed_lines.append(version)
    encrypted_key = base64.b64encode(public_key.encrypt(aes_key, _OAEP)).decode("ascii")
    signed_lines += [encrypted_key, instance_id]
    for number, (name, plaintext) in enumerate([*media, ("submission.xml", xml)]):
        seed[number % 16] = (seed[number % 16] + 1) % 256
        pad = 16 - len(plaintext) % 16
        encryptor = Cipher(algorithms.AES(aes_key), CFB(bytes(seed))).encryptor()
        files[name + ".enc"] = encryptor.update(plaintext + bytes((pad,)) * pad) + encryptor.finalize()
        signed_lines.append(f"{name}::{hashlib.md5(plaintext).hexdigest()}")
    digest = hashlib.md5(("\n".join(signed_lines) + "\n").encode("utf-8")).digest()
    signature = base64.b64encode(public_key.encrypt(digest, _OAEP)).decode("ascii")
    version_attribute = f" version={quoteattr(version)}" if version is not None else ""
    media_elements = "".join(f"<media><file>{escape(name)}.enc</file></media>" for name, _ in media)
    envelope = (
        f'<data id={quoteattr(form_id)}{version_attribute} encrypted="yes" xmlns="{_ENVELOPE_NS}">'
        f"<base64EncryptedKey>{encrypted_key}</base64EncryptedKey>"
        f'<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>{escape(instance_id)}</orx:instanceID></orx:meta>'
        f"{media_elements}"
        "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        f"<base64EncryptedElementSignature>{signature}</base64EncryptedElementSignature>"
        "</data>"
    )
    return envelope.encode("utf-8"), files
