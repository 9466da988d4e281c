"""Project keys: create them, publish the public half, keep the private half sealed.

A private key only ever leaves this module as a `cryptography` key object
(whose repr shows nothing) or sealed: in a passphrase slot (`WrappedKey`),
in a blob that only a session's random secret opens, or as a PEM the
custodian explicitly exported. Passphrases never appear in messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from samen.problems import KeyLockedError, MalformedRequestError, MissingParameterError, WrongPassphraseError

# ODK Central accepts nothing but RSA-2048 in base64RsaPublicKey.
RSA_KEY_BITS = 2048

# Argon2id as OWASP recommends for interactive logins; stored in each slot so it can be raised later.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST_KIB = 64 * 1024
ARGON2_PARALLELISM = 2

SECRET_BYTES = 32  # AES-256 keys, and the session secret of an unlock.
_NONCE_BYTES = 12
_SLOT_CONTEXT = b"samen-forms/passphrase-slot/v1\n"
_UNLOCK_CONTEXT = b"samen-forms/unlocked-key/v1"

# ODK Central's managed keys ("lib/util/crypto.js"): PBKDF2-SHA256, 128000 rounds, AES-256-CBC.
_CENTRAL_PBKDF2_ITERATIONS = 128_000

RsaPrivateKey = rsa.RSAPrivateKey
RsaPublicKey = rsa.RSAPublicKey


def generate_private_key() -> RsaPrivateKey:
    """A fresh RSA-2048 key pair for one project."""
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)


def public_key_der(public_key: RsaPublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo, the form every ODK client reads."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_base64(public_key: RsaPublicKey) -> str:
    """The value of `<submission base64RsaPublicKey="…">`: base64 DER SPKI, no PEM armour, no line breaks."""
    return base64.b64encode(public_key_der(public_key)).decode("ascii")


def key_fingerprint(public_key: RsaPublicKey) -> str:
    """SHA-256 of the DER public key, in hex: a stable id for a key pair that reveals nothing."""
    return hashlib.sha256(public_key_der(public_key)).hexdigest()


def load_private_key_pem(data: bytes, password: bytes | None = None) -> RsaPrivateKey:
    """Load a PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`) PEM, encrypted or not."""
    try:
        key = serialization.load_pem_private_key(data, password)
    except TypeError:
        if password is None:
            raise WrongPassphraseError("This PEM private key is encrypted: give its passphrase.") from None
        raise MalformedRequestError("This PEM private key is not encrypted: do not give a passphrase.") from None
    except (ValueError, UnsupportedAlgorithm):
        if password is not None and b"ENCRYPTED" in data:
            raise WrongPassphraseError("The passphrase does not open this PEM private key.") from None
        raise MalformedRequestError(
            "This is not a PEM private key: expected a file that starts with "
            "'-----BEGIN RSA PRIVATE KEY-----' or '-----BEGIN PRIVATE KEY-----'."
        ) from None
    return _require_rsa(key)


def private_key_pem(private_key: RsaPrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM, for a custodian who asked to export the key (e.g. for offline decryption)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True, repr=False)
class WrappedKey:
    """A private key sealed under one passphrase: Argon2id derives the key, AES-256-GCM seals it.

    The associated data binds the slot to its key pair (`key_id`), so a slot
    copied onto another key record fails instead of unlocking the wrong key.
    """

    key_id: str
    salt: bytes
    nonce: bytes
    ciphertext: bytes
    time_cost: int
    memory_cost_kib: int
    parallelism: int

    def __repr__(self) -> str:
        return f"WrappedKey(key_id={self.key_id!r}, kdf='argon2id')"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the database."""
        return {
            "kdf": "argon2id",
            "cipher": "aes-256-gcm",
            "key_id": self.key_id,
            "salt": _b64(self.salt),
            "nonce": _b64(self.nonce),
            "ciphertext": _b64(self.ciphertext),
            "time_cost": self.time_cost,
            "memory_cost_kib": self.memory_cost_kib,
            "parallelism": self.parallelism,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WrappedKey:
        """Inverse of to_dict; MalformedRequestError if the stored slot is not one we wrote."""
        try:
            if data["kdf"] != "argon2id" or data["cipher"] != "aes-256-gcm":
                raise ValueError("unknown algorithm")
            return cls(
                key_id=str(data["key_id"]),
                salt=_unb64(data["salt"]),
                nonce=_unb64(data["nonce"]),
                ciphertext=_unb64(data["ciphertext"]),
                time_cost=int(data["time_cost"]),
                memory_cost_kib=int(data["memory_cost_kib"]),
                parallelism=int(data["parallelism"]),
            )
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise MalformedRequestError("This stored passphrase slot is damaged or of an unknown kind.") from None


def wrap_private_key(private_key: RsaPrivateKey, passphrase: str) -> WrappedKey:
    """Seal the private key under a custodian's passphrase (one slot per custodian)."""
    if not passphrase:
        raise MissingParameterError("A passphrase is required to protect the project key.")
    salt = os.urandom(16)
    nonce = os.urandom(_NONCE_BYTES)
    key_id = key_fingerprint(private_key.public_key())
    wrapping_key = _argon2id(passphrase, salt, ARGON2_TIME_COST, ARGON2_MEMORY_COST_KIB, ARGON2_PARALLELISM)
    ciphertext = AESGCM(wrapping_key).encrypt(nonce, _private_key_der(private_key), _SLOT_CONTEXT + key_id.encode())
    return WrappedKey(key_id, salt, nonce, ciphertext, ARGON2_TIME_COST, ARGON2_MEMORY_COST_KIB, ARGON2_PARALLELISM)


def unwrap_private_key(wrapped: WrappedKey, passphrase: str) -> RsaPrivateKey:
    """Open a passphrase slot, or raise WrongPassphraseError."""
    wrapping_key = _argon2id(passphrase, wrapped.salt, wrapped.time_cost, wrapped.memory_cost_kib, wrapped.parallelism)
    try:
        der = AESGCM(wrapping_key).decrypt(wrapped.nonce, wrapped.ciphertext, _SLOT_CONTEXT + wrapped.key_id.encode())
    except InvalidTag:
        raise WrongPassphraseError() from None
    return _require_rsa(serialization.load_der_private_key(der, None))


def wrap_with_secret(private_key: RsaPrivateKey, secret: bytes) -> bytes:
    """Seal an unlocked key under a session's random secret: without the secret the blob at rest is useless."""
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"The unlock secret must be {SECRET_BYTES} random bytes.")
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(secret).encrypt(nonce, _private_key_der(private_key), _UNLOCK_CONTEXT)


def unwrap_with_secret(blob: bytes, secret: bytes) -> RsaPrivateKey:
    """Open what wrap_with_secret sealed, or raise KeyLockedError (the unlock ended or is someone else's)."""
    try:
        der = AESGCM(secret).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _UNLOCK_CONTEXT)
    except (InvalidTag, ValueError):
        raise KeyLockedError("This unlock has ended or belongs to another session: unlock the project key again.") from None
    return _require_rsa(serialization.load_der_private_key(der, None))


def import_central_managed_key(archive: Mapping[str, str], passphrase: str) -> RsaPrivateKey:
    """Open an ODK Central managed key `{pubkey, privkey, salt, iv}` with its passphrase."""
    try:
        salt, iv, sealed = (_unb64(archive[name]) for name in ("salt", "iv", "privkey"))
        archived_public = serialization.load_pem_public_key(_unb64(archive["pubkey"]))
    except (KeyError, TypeError, ValueError, binascii.Error, UnsupportedAlgorithm):
        raise MalformedRequestError(
            "This is not an ODK Central managed key: expected base64 fields pubkey, privkey, salt and iv."
        ) from None
    # Node's pbkdf2Sync encodes a string passphrase as UTF-8 without normalising it; so do we.
    aes_key = PBKDF2HMAC(hashes.SHA256(), 32, salt, _CENTRAL_PBKDF2_ITERATIONS).derive(passphrase.encode("utf-8"))
    try:
        decryptor = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(sealed) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        private_key = serialization.load_pem_private_key(unpadder.update(padded) + unpadder.finalize(), None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # A wrong passphrase shows up as bad padding or, 1 time in ~256, as a PEM that does not parse.
        raise WrongPassphraseError() from None
    private_key = _require_rsa(private_key)
    if key_fingerprint(private_key.public_key()) != key_fingerprint(_require_rsa_public(archived_public)):
        raise MalformedRequestError("This Central managed key is inconsistent: its private key does not match its pubkey.")
    return private_key


def _argon2id(passphrase: str, salt: bytes, time_cost: int, memory_cost_kib: int, parallelism: int) -> bytes:
    # NFC so that the same passphrase typed on a Mac, a phone and Windows gives the same bytes.
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return hash_secret_raw(secret, salt, time_cost, memory_cost_kib, parallelism, SECRET_BYTES, Type.ID)


def _private_key_der(private_key: RsaPrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _require_rsa(key: object) -> RsaPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise MalformedRequestError("This private key is not an RSA key; ODK encryption needs RSA-2048.")
    return key


def _require_rsa_public(key: object) -> RsaPublicKey:
    if not isinstance(key, rsa.RSAPublicKey):
        raise MalformedRequestError("This public key is not an RSA key; ODK encryption needs RSA-2048.")
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
