"""Protected export files open with the password (or the age identity) and not without."""

from __future__ import annotations

import io
import zipfile

import msoffcrypto
import openpyxl
import pyrage
import pytest
import pyzipper
import xlsxwriter
from pyrage import x25519

from samen.protect import Protection, ProtectionError, protect_age, protect_file, protect_xlsx, protect_zip

PASSWORD = "correct horse battery"


def _workbook(path):
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("intake")
    sheet.write_row(0, 0, ["participant_code", "city"])
    sheet.write_row(1, 0, ["K7M4TQX", "utrecht"])
    book.close()
    return path


def test_a_protected_workbook_opens_with_the_password_and_not_without(tmp_path):
    path = protect_xlsx(_workbook(tmp_path / "intake.xlsx"), PASSWORD)
    assert path == tmp_path / "intake.xlsx" and not zipfile.is_zipfile(path)  # an OLE container now, not a zip
    with pytest.raises(zipfile.BadZipFile):
        openpyxl.load_workbook(path)
    office = msoffcrypto.OfficeFile(path.open("rb"))
    assert office.is_encrypted()
    with pytest.raises(msoffcrypto.exceptions.InvalidKeyError):
        office.load_key(password="wrong password here")
        office.decrypt(io.BytesIO())
    office = msoffcrypto.OfficeFile(path.open("rb"))
    office.load_key(password=PASSWORD)
    plain = io.BytesIO()
    office.decrypt(plain)
    sheet = openpyxl.load_workbook(plain)["intake"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [["participant_code", "city"], ["K7M4TQX", "utrecht"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["intake.xlsx"]  # no plaintext or temporary file left


def test_a_protected_zip_opens_with_the_password_only(tmp_path):
    plain = tmp_path / "intake.csv.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("intake.csv", "participant_code,city\nK7M4TQX,utrecht\n")
        archive.writestr("media/photo.jpg", b"\xff\xd8 jpeg bytes")
    path = protect_zip(plain, PASSWORD)
    assert path == plain
    with pyzipper.AESZipFile(path) as archive:
        assert all(info.flag_bits & 0x1 for info in archive.infolist())  # every entry encrypted
        with pytest.raises(RuntimeError):
            archive.read("intake.csv")
        archive.setpassword(b"not the password")
        with pytest.raises(RuntimeError):
            archive.read("intake.csv")
        archive.setpassword(PASSWORD.encode())
        assert archive.read("intake.csv") == b"participant_code,city\nK7M4TQX,utrecht\n"
        assert archive.read("media/photo.jpg") == b"\xff\xd8 jpeg bytes"
    with zipfile.ZipFile(path) as archive, pytest.raises(RuntimeError):
        archive.read("intake.csv")  # the standard library cannot open AES entries at all


def test_a_single_file_is_zipped_and_the_plaintext_removed(tmp_path):
    plain = tmp_path / "intake.jsonl"
    plain.write_text('{"participant_code": "K7M4TQX"}\n')
    path = protect_file(plain, Protection(password=PASSWORD))
    assert path == tmp_path / "intake.jsonl.zip" and not plain.exists()
    with pyzipper.AESZipFile(path) as archive:
        archive.setpassword(PASSWORD.encode())
        assert archive.read("intake.jsonl") == b'{"participant_code": "K7M4TQX"}\n'


def test_age_round_trip_opens_only_for_the_recipient(tmp_path):
    identity, stranger = x25519.Identity.generate(), x25519.Identity.generate()
    plain = tmp_path / "intake.csv.zip"
    plain.write_bytes(b"PK not really a zip, any bytes will do")
    path = protect_age(plain, [str(identity.to_public())])
    assert path == tmp_path / "intake.csv.zip.age" and not plain.exists()
    assert pyrage.decrypt(path.read_bytes(), [identity]) == b"PK not really a zip, any bytes will do"
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(path.read_bytes(), [stranger])


def test_bad_protection_is_refused_before_anything_changes(tmp_path):
    plain = _workbook(tmp_path / "intake.xlsx")
    original = plain.read_bytes()
    with pytest.raises(ProtectionError):
        protect_xlsx(plain, "short")
    with pytest.raises(ProtectionError):
        protect_age(plain, ["not-a-key"])
    with pytest.raises(ProtectionError):
        Protection(password=PASSWORD, age_recipients=("age1x",))
    with pytest.raises(ProtectionError):
        Protection(password="short")
    assert plain.read_bytes() == original
    assert "battery" not in repr(Protection(password=PASSWORD))
