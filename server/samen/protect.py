"""Protected export files: readable only with a password, or only by the holder of an age key.

* XLSX → Office's own encryption (ECMA-376 agile, AES-256), which Excel and
  LibreOffice open after asking for the password (msoffcrypto-tool).
* ZIP, CSV, JSON Lines, SPSS → a WinZip-AES-256 zip, which 7-Zip and
  Windows 11 open (pyzipper); a zip's entries are re-packed one by one.
* any file → age, to one or more recipients' public keys (`age1…`), for a
  colleague who should not need a shared password (pyrage).

Each function takes the plaintext file, writes the protected one beside it
(under a hidden name, renamed into place when complete) and removes the
plaintext, so only the protected file remains. Passwords are arguments,
never written or logged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_CHUNK = 1 << 20
MIN_PASSWORD_LENGTH = 12  # a file that leaves the server meets offline guessing: no short passwords


class ProtectionError(ValueError):
    """The protection asked for cannot be applied (a weak password, a bad recipient)."""


@dataclass(frozen=True)
class Protection:
    """How an export file is protected: a password, age recipients, or nothing."""

    password: str | None = field(default=None, repr=False)
    age_recipients: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse bad protection before any plaintext is written, not after."""
        if self.password and self.age_recipients:
            raise ProtectionError("Protect an export with a password or with age recipients, not both.")
        if self.password:
            _check_password(self.password)
        if self.age_recipients:
            _age_recipients(self.age_recipients)

    def __bool__(self) -> bool:
        return bool(self.password or self.age_recipients)

    def __repr__(self) -> str:
        return f"Protection(password={'<set>' if self.password else None}, age_recipients={self.age_recipients!r})"


@contextmanager
def _replacement(target: Path) -> Iterator[Path]:
    """A hidden temporary path beside `target`, renamed onto it only if the block succeeds."""
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(descriptor)
    try:
        yield Path(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ProtectionError(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")


def _age_recipients(recipients: Sequence[str]) -> list:
    import pyrage

    if not recipients:
        raise ProtectionError("Give at least one age recipient (a public key starting with age1).")
    try:
        return [pyrage.x25519.Recipient.from_str(recipient.strip()) for recipient in recipients]
    except pyrage.RecipientError:
        raise ProtectionError("An age recipient must be a public key starting with age1.") from None


def protect_xlsx(path: Path, password: str) -> Path:
    """Encrypt a workbook in place with a password Excel asks for on opening."""
    import msoffcrypto.format.ooxml

    _check_password(password)
    with _replacement(path) as temporary, path.open("rb") as plain, temporary.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt(password, out)
    return path


def protect_zip(path: Path, password: str) -> Path:
    """An AES-256 zip: a zip's entries re-packed encrypted (same path), any other file zipped as `<name>.zip`."""
    import pyzipper

    _check_password(password)
    target = path if zipfile.is_zipfile(path) else path.with_name(path.name + ".zip")
    with _replacement(target) as temporary:
        with pyzipper.AESZipFile(temporary, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as out:
            out.setpassword(password.encode("utf-8"))
            out.setencryption(pyzipper.WZ_AES, nbits=256)
            if target == path:
                with zipfile.ZipFile(path) as plain:
                    for entry in plain.infolist():
                        if not entry.is_dir():
                            with plain.open(entry) as source, out.open(entry.filename, "w") as sink:
                                shutil.copyfileobj(source, sink, _CHUNK)
            else:
                with path.open("rb") as source, out.open(path.name, "w") as sink:
                    shutil.copyfileobj(source, sink, _CHUNK)
    if target != path:
        path.unlink()
    return target


def protect_age(path: Path, recipients: Sequence[str]) -> Path:
    """Encrypt to age recipients (`age1…` public keys) as `<name>.age`; only their identities open it."""
    import pyrage

    keys = _age_recipients(recipients)
    target = path.with_name(path.name + ".age")
    with _replacement(target) as temporary:
        pyrage.encrypt_file(str(path), str(temporary), keys)
    path.unlink()
    return target


def protect_file(path: Path, protection: Protection) -> Path:
    """Apply the protection an export asked for; returns the path of the protected file."""
    if protection.age_recipients:
        return protect_age(path, protection.age_recipients)
    if protection.password:
        if path.suffix.lower() == ".xlsx":
            return protect_xlsx(path, protection.password)
        return protect_zip(path, protection.password)
    return path
