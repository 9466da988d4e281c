"""The QR code that sets up ODK Collect: settings JSON → zlib → base64 → QR."""

from __future__ import annotations

import base64
import io
import json
import zlib
from urllib.parse import quote

import segno


def collect_server_url(base_url: str, project_id: int, token: str) -> str:
    """The server URL a phone is set up with: the app user's token is its credential, in the path as Central puts it."""
    return f"{base_url.rstrip('/')}/v1/key/{token}/projects/{project_id}"


def draft_testing_server_url(base_url: str, project_id: int, xml_form_id: str, token: str) -> str:
    """Central's server URL for testing a draft: Collect appends /formList and /submission to it."""
    return f"{base_url.rstrip('/')}/v1/test/{token}/projects/{project_id}/forms/{quote(xml_form_id, safe='')}/draft"


def collect_settings(server_url: str, project_name: str, form_update_mode: str = "match_exactly",
                     autosend: str = "wifi_and_cellular", icon: str | None = None) -> dict:
    """Collect requires `general` and `admin`; `project` names and colours the project on the phone."""
    return {
        "general": {"server_url": server_url, "form_update_mode": form_update_mode, "autosend": autosend,
                    "constraint_behavior": "on_finalize"},
        "admin": {"change_server": False, "edit_saved": True},
        "project": {"name": project_name, "icon": icon or (project_name[:1] or "S").upper(), "color": "#7b2d8e"},
    }


def draft_testing_settings(server_url: str, project_name: str) -> dict:
    """Central's testing code: a Collect project of its own (named "[Draft] …" by the caller, with Central's
    icon), so that testers keep the draft apart from the real forms on the phone."""
    return collect_settings(server_url, project_name, icon="📝")


def settings_payload(settings: dict) -> str:
    """Collect reads deflate with a zlib header, then standard padded base64 without line breaks."""
    return base64.b64encode(zlib.compress(json.dumps(settings, separators=(",", ":")).encode("utf-8"))).decode("ascii")


def settings_from_payload(payload: str) -> dict:
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def qr_code(payload: str) -> segno.QRCode:
    return segno.make(payload, error="l", micro=False)


def qr_png(payload: str, scale: int = 6) -> bytes:
    buffer = io.BytesIO()
    qr_code(payload).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(payload: str, scale: int = 4) -> str:
    buffer = io.BytesIO()
    qr_code(payload).save(buffer, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return buffer.getvalue().decode("utf-8")
