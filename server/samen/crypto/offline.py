"""Decrypt a folder of encrypted submissions to plaintext files: our replacement for ODK Briefcase.

SOURCE holds one folder per submission, each with the envelope
(`submission.xml`) and the `.enc` files it lists; OUT receives one folder of
the same name with the decrypted `submission.xml` and media. A bad folder is
reported and skipped, never fatal. Each output folder is written under a
hidden temporary name and renamed into place only when complete, so a crash
never leaves a half-decrypted submission that looks whole.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from samen.crypto.decrypt import DecryptedSubmission, Decryptor
from samen.crypto.envelope import parse_envelope
from samen.problems import Problem

ENVELOPE_FILE = "submission.xml"

FolderStatus = Literal["ok", "signature_invalid", "media_missing", "failed"]


@dataclass(frozen=True)
class FolderResult:
    """What happened to one submission folder; `reason` says why when it is not "ok"."""

    folder: str
    status: FolderStatus
    instance_id: str | None = None
    reason: str = ""


def decrypt_folder(source: Path, out: Path, decryptor: Decryptor) -> list[FolderResult]:
    """Decrypt every submission folder in SOURCE into OUT, in name order; one result per folder."""
    out.mkdir(parents=True, exist_ok=True)
    folders = sorted(path for path in source.iterdir() if path.is_dir())
    return [decrypt_submission_folder(folder, out / folder.name, decryptor) for folder in folders]


def decrypt_submission_folder(folder: Path, target: Path, decryptor: Decryptor) -> FolderResult:
    """Decrypt one submission folder into `target`, which must not exist yet."""
    if target.exists():
        return FolderResult(folder.name, "failed", None, f"{target} exists already; it was left untouched.")
    if not (folder / ENVELOPE_FILE).is_file():
        return FolderResult(folder.name, "failed", None, f"No {ENVELOPE_FILE} here: this is not a submission folder.")
    instance_id = None
    try:
        envelope = parse_envelope((folder / ENVELOPE_FILE).read_bytes())
        instance_id = envelope.instance_id
        names = (*envelope.media_files, envelope.encrypted_xml_file)
        files = {name: (folder / name).read_bytes() for name in names if (folder / name).is_file()}
        decrypted = decryptor(envelope, files)
        _write_atomically(target, decrypted)
    except Problem as problem:
        return FolderResult(folder.name, "failed", instance_id, problem.message)
    except OSError as error:
        return FolderResult(folder.name, "failed", instance_id, f"{error.strerror}: {error.filename}")
    return FolderResult(folder.name, decrypted.status, instance_id, _flag_reason(decrypted))


def _flag_reason(decrypted: DecryptedSubmission) -> str:
    if decrypted.status == "media_missing":
        missing = ", ".join(decrypted.missing_media)
        return f"not in the folder: {missing}. The rest is decrypted; the signature cannot be checked without them."
    if decrypted.status == "signature_invalid":
        return "the signature does not match: a file was damaged or altered after encryption. Decrypted anyway."
    return ""


def _write_atomically(target: Path, decrypted: DecryptedSubmission) -> None:
    partial = target.with_name(f".{target.name}.partial-{secrets.token_hex(4)}")
    # Plaintext of sensitive submissions: readable by the custodian's account only.
    partial.mkdir(mode=0o700)
    try:
        for name, data in (*decrypted.media.items(), (ENVELOPE_FILE, decrypted.xml)):
            _write_new_file(partial / name, data)
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _write_new_file(path: Path, data: bytes) -> None:
    # O_EXCL: never overwrite, even if two names should ever collide.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
