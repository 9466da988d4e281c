"""Exports over HTTP: Central's `F/submissions.csv.zip`, and `.xlsx`, `.sav`, `.jsonl` beside it.

Options as in Central: `attachments=false` (no media/ in the zip),
`groupPaths`, `splitSelectMultiples`, `deletedFields` (columns of fields
only older versions have) and `$filter` on `__system` properties; plus
`lang` and `labels` for XLSX and SPSS.

Encrypted forms decrypt with the passphrase sent as Central's clients send
it, `{keyId}={passphrase}` in a POST body (form-encoded or JSON), or else
with the keys the caller's bearer session has unlocked. Without either, the
export still completes and each encrypted row says "key locked", as Central
exports rows it could not decrypt. The body streams as it is written, unless
the POST body also carries `protectPassword`: then the file is written,
encrypted with that password (Excel and 7-Zip open it), sent, and deleted when
it expires. Wrong passphrases count towards the same pause as logins.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import Response, request, send_file
from sqlalchemy.orm import Session

from samen.api import api
from samen.api.context import bool_arg, form_for, request_actor
from samen.api.forms import F
from samen.api.keys import caller_key_chain
from samen.app import services
from samen.auth import Actor
from samen.decrypting import KeyChain
from samen.export_service import SYSTEM_COLUMNS, ExportRequest, prepare_export, write_kept_export
from samen.odata.filters import filter_sql, parse_filter
from samen.problems import MalformedRequestError, NotImplementedProblem
from samen.protect import Protection, ProtectionError
from samen.unlocking import open_with_passphrase

EXPORT_SUFFIXES = {"csv.zip": "csv", "xlsx": "xlsx", "sav": "sav", "jsonl": "jsonl"}


def _export_view(format: str):
    def view(project_id: int, xml_form_id: str) -> Response:
        database = services().database
        with database.session() as session:
            actor = request_actor(session)
            form = form_for(session, actor, project_id, xml_form_id, "export.run")
            keys = _keys(session, actor, project_id)
            actor_id = actor.id
        protection = _protection()  # checked before anything is decrypted
        export = prepare_export(database, services().blobs, project_id, form.xml_form_id, _export_request(format),
                                keys, actor_id=actor_id)
        headers = {"Cache-Control": "no-store"}  # decrypted data: no proxy or browser cache may keep it
        if protection:
            # Written, encrypted with the password (Excel, 7-Zip), sent; deleted when it expires (samen.retention).
            settings = services().settings
            summary = write_kept_export(export, settings.export_dir, protection, settings.export_ttl_hours)
            response = send_file(summary.path.resolve(), mimetype=export.media_type)
            response.headers.update({**headers, "Content-Disposition": _attachment(summary.path.name)})
            return response
        return Response(export.chunks(), mimetype=export.media_type,
                        headers={**headers, "Content-Disposition": _attachment(export.filename)})

    view.__name__ = f"export_{format}"
    return view


for _suffix, _format in EXPORT_SUFFIXES.items():
    api.add_url_rule(f"{F}/submissions.{_suffix}", view_func=_export_view(_format), methods=["GET", "POST"])


def _export_request(format: str) -> ExportRequest:
    condition = None
    if request.args.get("$filter"):
        condition = filter_sql(parse_filter(request.args["$filter"]), SYSTEM_COLUMNS)
        if condition is None:
            raise NotImplementedProblem("An export can be filtered on __id and __system properties only.",
                                        option="$filter")
    return ExportRequest(
        format=format,
        language=request.args.get("lang") or None,
        labels=bool_arg("labels", False),
        group_paths=bool_arg("groupPaths", True),
        split_select_multiples=bool_arg("splitSelectMultiples", False),
        # Central leaves out fields that only older versions have unless deletedFields=true.
        removed_fields=bool_arg("deletedFields", False),
        with_media=format == "csv" and bool_arg("attachments", True),
        condition=condition,
    )


def _keys(session: Session, actor: Actor, project_id: int) -> KeyChain:
    """Keys opened by passphrases in the body, else the caller's active unlock."""
    passphrases = {key_id: value for key_id, value in _body().items() if key_id.isdigit() and isinstance(value, str)}
    if not passphrases:
        return caller_key_chain(session, actor, project_id)
    actor.require("key.unlock", project_id)
    keys = KeyChain()
    for passphrase in passphrases.values():
        for private_key in open_with_passphrase(session, project_id, passphrase, actor_id=actor.id,
                                                address=request.remote_addr).values():
            keys.add(private_key)
    return keys


def _protection() -> Protection:
    """`protectPassword` in the body asks for a password-protected file (not a Central option: ours)."""
    password = _body().get("protectPassword")
    try:
        return Protection(password=password if isinstance(password, str) else None)
    except ProtectionError as error:
        raise MalformedRequestError(str(error), field="protectPassword") from None


def _body() -> dict:
    """A POST body, form-encoded or JSON (Central's clients send either): `{keyId}={passphrase}` and options."""
    if request.method != "POST":
        return {}
    if request.is_json:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as error:
            raise MalformedRequestError("The request body is not valid JSON.") from error
        if not isinstance(body, dict):
            raise MalformedRequestError("Send the passphrases as a JSON object: {\"<keyId>\": \"<passphrase>\"}.")
        return {str(key): value for key, value in body.items()}
    return request.form.to_dict()


def _attachment(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
