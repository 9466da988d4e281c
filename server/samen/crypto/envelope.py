"""Read the envelope that ODK clients send instead of the form's XML.

Collect writes the envelope in the namespace
`http://www.opendatakit.org/xforms/encrypted`; Enketo and envelopes stored
by Aggregate/Briefcase use `http://opendatakit.org/submissions` and add
`type="file"` to the file elements. Everything is therefore matched by local
name, never by namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from samen.problems import MalformedRequestError
from samen.safexml import child, children, local_name, parse_xml

ENCRYPTED_SUFFIX = ".enc"


@dataclass(frozen=True)
class Envelope:
    """What an encrypted submission says about itself, exactly as sent."""

    form_id: str
    version: str | None  # None when the attribute is absent, "" when present and empty: both occur.
    base64_encrypted_key: str  # Exact text: the signature covers it as sent.
    instance_id: str
    media_files: tuple[str, ...]  # Names as listed ("a.jpg.enc"), in envelope order, which fixes the IVs.
    encrypted_xml_file: str
    signature_b64: str | None


def plain_name(file_name: str) -> str:
    """The name of the decrypted file: the envelope's name without `.enc`."""
    return file_name[: -len(ENCRYPTED_SUFFIX)] if file_name.endswith(ENCRYPTED_SUFFIX) else file_name


def is_encrypted_envelope(root: etree._Element) -> bool:
    """True when this parsed submission is an envelope rather than plaintext form data."""
    if local_name(root) != "data":
        return False
    return root.get("encrypted") == "yes" or child(root, "encryptedXmlFile") is not None


def parse_envelope(xml: bytes) -> Envelope:
    """Parse envelope bytes, or raise InvalidXmlError / MalformedRequestError saying what is wrong."""
    root = parse_xml(xml)
    if not is_encrypted_envelope(root):
        raise MalformedRequestError(
            "This is not an encrypted-submission envelope: expected a <data encrypted=\"yes\"> root "
            "with an <encryptedXmlFile> child."
        )
    form_id = root.get("id")
    if not form_id:
        raise MalformedRequestError("The encrypted envelope has no form id: its <data> root needs an id attribute.")
    media_files = tuple(
        _file_name(item, "media file")
        for media in children(root, "media")
        for item in children(media, "file")
    )
    encrypted_xml_file = _file_name(_required(root, "encryptedXmlFile"), "encrypted XML file")
    # Decrypted files are known by their plain names, so "a.jpg" and "a.jpg.enc" would collide.
    plain_names = [plain_name(name) for name in (*media_files, encrypted_xml_file)]
    if len(set(plain_names)) != len(plain_names):
        raise MalformedRequestError("The encrypted envelope lists the same file twice; each file must be unique.")
    signature = child(root, "base64EncryptedElementSignature")
    signature_b64 = (signature.text or "").strip() if signature is not None else ""
    return Envelope(
        form_id=form_id,
        version=root.get("version"),
        base64_encrypted_key=_required(root, "base64EncryptedKey").text or "",
        instance_id=_instance_id(root),
        media_files=media_files,
        encrypted_xml_file=encrypted_xml_file,
        signature_b64=signature_b64 or None,
    )


def _required(root: etree._Element, name: str) -> etree._Element:
    element = child(root, name)
    if element is None or not (element.text or "").strip():
        raise MalformedRequestError(
            f"The encrypted envelope has no <{name}>: the client did not finish encrypting. Send it again from the device."
        )
    return element


def _instance_id(root: etree._Element) -> str:
    # Collect puts it in <meta><instanceID>; Aggregate-stored envelopes also carry it as a root attribute.
    meta = child(root, "meta")
    element = child(meta, "instanceID") if meta is not None else None
    instance_id = (element.text or "").strip() if element is not None else (root.get("instanceID") or "").strip()
    if not instance_id:
        raise MalformedRequestError("The encrypted envelope has no <meta><instanceID>; it cannot be decrypted without it.")
    return instance_id


def _file_name(element: etree._Element, what: str) -> str:
    name = (element.text or "").strip()
    # The name becomes a file name when decrypting to disk: refuse anything that could leave the folder.
    if not name or name in {".", ".."} or any(sep in name for sep in ("/", "\\", "\0")):
        raise MalformedRequestError(f"The encrypted envelope names a {what} {name!r}; it must be a plain file name.")
    return name
