"""OpenRosa wire formats: the XML Collect reads, and the headers it insists on."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from typing import Iterable
from xml.sax.saxutils import escape

from flask import Response

OPENROSA_HEADERS = {"X-OpenRosa-Version": "1.0", "Content-Language": "en"}
XML_CONTENT_TYPE = "text/xml; charset=utf-8"  # Collect refuses any other type for these bodies


def openrosa_headers(response: Response, accept_content_length: int) -> Response:
    for name, value in OPENROSA_HEADERS.items():
        response.headers[name] = value
    response.headers["X-OpenRosa-Accept-Content-Length"] = str(accept_content_length)
    response.headers["Date"] = formatdate(usegmt=True)
    return response


def xml_response(body: str, status: int = 200) -> Response:
    return Response(body.encode("utf-8"), status=status, content_type=XML_CONTENT_TYPE)


def message_response(message: str, nature: str, status: int) -> Response:
    """Collect shows the first <message> to the ambassador, so it must say what to do."""
    return xml_response(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        f'<message nature="{nature}">{escape(message)}</message></OpenRosaResponse>',
        status,
    )


@dataclass(frozen=True)
class FormListEntry:
    form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None


def form_list(entries: Iterable[FormListEntry]) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<xforms xmlns="http://openrosa.org/xforms/xformsList">']
    for entry in entries:
        parts.append(
            "<xform>"
            f"<formID>{escape(entry.form_id)}</formID>"
            f"<name>{escape(entry.name)}</name>"
            f"<version>{escape(entry.version)}</version>"
            f"<hash>md5:{entry.md5}</hash>"
            f"<downloadUrl>{escape(entry.download_url)}</downloadUrl>"
            + (f"<manifestUrl>{escape(entry.manifest_url)}</manifestUrl>" if entry.manifest_url else "")
            + "</xform>"
        )
    parts.append("</xforms>")
    return "".join(parts)


@dataclass(frozen=True)
class ManifestEntry:
    filename: str
    hash: str  # md5 hex of the content, or an entity list's change token
    download_url: str
    integrity_url: str | None = None  # entity lists only


def manifest(entries: Iterable[ManifestEntry]) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="http://openrosa.org/xforms/xformsManifest">']
    for entry in entries:
        kind = ' type="entityList"' if entry.integrity_url else ""
        parts.append(
            f"<mediaFile{kind}>"
            f"<filename>{escape(entry.filename)}</filename>"
            f"<hash>md5:{entry.hash}</hash>"
            f"<downloadUrl>{escape(entry.download_url)}</downloadUrl>"
            + (f"<integrityUrl>{escape(entry.integrity_url)}</integrityUrl>" if entry.integrity_url else "")
            + "</mediaFile>"
        )
    parts.append("</manifest>")
    return "".join(parts)
