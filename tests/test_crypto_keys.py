"""Project keys: generation, PEM import/export, passphrase slots, session unlocks; secrets never shown."""

from __future__ import annotations

import base64
import json
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from samen.crypto.keys import (
    WrappedKey,
    generate_private_key,
    key_fingerprint,
    load_private_key_pem,
    private_key_pem,
    public_key_base64,
    unwrap_private_key,
    unwrap_with_secret,
    wrap_private_key,
    wrap_with_secret,
)
from samen.problems import KeyLockedError, MalformedRequestError, WrongPassphraseError

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "encryption"
PASSPHRASE = "paard-batterij-nietje-Ω"


@pytest.fixture(scope="module")
def private_key():
    return generate_private_key()


@pytest.fixture(scope="module")
def wrapped(private_key):
    return wrap_private_key(private_key, PASSPHRASE)


def same_key(one, other) -> bool:
    return one.private_numbers() == other.private_numbers()


def test_generated_keys_are_rsa_2048_published_as_one_line_of_base64_der(private_key):
    published = public_key_base64(private_key.public_key())

    assert private_key.key_size == 2048
    assert "\n" not in published and not published.startswith("-----")
    assert serialization.load_der_public_key(base64.b64decode(published)).public_numbers() == private_key.public_key().public_numbers()


def test_public_key_of_the_central_fixture_matches_its_form():
    private_key = load_private_key_pem((FIXTURES / "central-backend" / "priv.pem").read_bytes())
    form = (FIXTURES / "central-backend" / "form-encrypted.xml").read_text()

    assert f'base64RsaPublicKey="{public_key_base64(private_key.public_key())}"' in form


def test_pkcs1_and_pkcs8_pem_both_load(private_key):
    pkcs1 = (FIXTURES / "briefcase" / "encrypted-form-key.pem").read_bytes()
    pkcs8 = private_key_pem(private_key)

    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----") and pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert load_private_key_pem(pkcs1).key_size == 2048
    assert same_key(load_private_key_pem(pkcs8), private_key)


def test_encrypted_pem_needs_its_passphrase(private_key):
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pem-pass")
    )

    assert same_key(load_private_key_pem(pem, b"pem-pass"), private_key)
    with pytest.raises(WrongPassphraseError, match="encrypted: give its passphrase"):
        load_private_key_pem(pem)
    with pytest.raises(WrongPassphraseError) as caught:
        load_private_key_pem(pem, b"not-the-pem-pass")
    assert "not-the-pem-pass" not in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        b"hello",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    ],
    ids=["garbage", "broken-pem", "ec-key"],
)
def test_anything_but_an_rsa_pem_is_refused_clearly(data):
    with pytest.raises(MalformedRequestError, match="PEM private key|not an RSA key"):
        load_private_key_pem(data)


def test_passphrase_slot_round_trips_through_json(private_key, wrapped):
    stored = json.loads(json.dumps(wrapped.to_dict()))

    assert stored["key_id"] == key_fingerprint(private_key.public_key())
    assert (stored["time_cost"], stored["memory_cost_kib"], stored["parallelism"]) == (3, 65536, 2)
    assert same_key(unwrap_private_key(WrappedKey.from_dict(stored), PASSPHRASE), private_key)


def test_passphrase_in_another_unicode_normal_form_still_unlocks(private_key):
    slot = wrap_private_key(private_key, unicodedata.normalize("NFC", "geheim-café"))

    assert same_key(unwrap_private_key(slot, unicodedata.normalize("NFD", "geheim-café")), private_key)


def test_wrong_passphrase_is_refused_without_echoing_it(wrapped):
    with pytest.raises(WrongPassphraseError) as caught:
        unwrap_private_key(wrapped, "paard-batterij-nietje")
    assert "paard" not in str(caught.value) and "paard" not in repr(caught.value.details)


def test_a_slot_moved_onto_another_key_record_does_not_open(wrapped):
    other_key_id = key_fingerprint(generate_private_key().public_key())

    with pytest.raises(WrongPassphraseError):
        unwrap_private_key(replace(wrapped, key_id=other_key_id), PASSPHRASE)


@pytest.mark.parametrize(
    "damage",
    [{"kdf": "scrypt"}, {"salt": "not base64!"}, {"time_cost": None}, {"ciphertext": 7}],
    ids=["unknown-kdf", "bad-base64", "missing-cost", "wrong-type"],
)
def test_damaged_slots_are_refused(wrapped, damage):
    with pytest.raises(MalformedRequestError, match="damaged"):
        WrappedKey.from_dict({**wrapped.to_dict(), **damage})


def test_reprs_show_nothing_secret(private_key, wrapped):
    slot = wrapped.to_dict()
    shown = repr(wrapped) + repr(private_key)

    assert wrapped.key_id in shown
    for secret in (slot["salt"], slot["nonce"], slot["ciphertext"][:20], str(private_key.private_numbers().d)[:20], PASSPHRASE):
        assert secret not in shown


def test_session_unlock_opens_only_with_its_secret(private_key):
    secret, other_secret = bytes(range(32)), bytes(32)
    blob = wrap_with_secret(private_key, secret)

    assert same_key(unwrap_with_secret(blob, secret), private_key)
    assert private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) not in blob
    with pytest.raises(KeyLockedError):
        unwrap_with_secret(blob, other_secret)
    with pytest.raises(KeyLockedError):
        unwrap_with_secret(blob[:8], secret)
    with pytest.raises(ValueError):
        wrap_with_secret(private_key, b"short")
