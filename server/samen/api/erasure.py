"""Erasure by participant code over the API, for the console: preview first, then delete with `confirm`.

    POST /v1/projects/{pid}/erasure  {"code": "K7M4-TQX", "confirm": false}  → what would be deleted
    POST /v1/projects/{pid}/erasure  {"code": "K7M4-TQX", "confirm": true}   → deleted, with a receipt

Encrypted submissions are searched with the keys the caller's bearer session
has unlocked; deletion is refused (403.x, key locked) while any is locked.
The response never repeats the code: it carries the receipt's reference.
"""

from __future__ import annotations

from flask import Response

from samen.api import api
from samen.api.context import json_body, project_for, request_actor, text_field
from samen.api.frames import json_response
from samen.api.keys import caller_key_chain
from samen.app import services
from samen.erasure import erase_participant, receipt_text, server_secret
from samen.problems import MalformedRequestError


@api.post("/projects/<int:project_id>/erasure")
def erase_participant_data(project_id: int) -> Response:
    """Find (confirm false) or permanently delete (confirm true) a participant's data by their code."""
    database = services().database
    with database.session() as session:
        actor = request_actor(session)
        project = project_for(session, actor, project_id, "participant.erase")  # before the body: a stranger learns nothing
        keys = caller_key_chain(session, actor, project_id)
        project_name, actor_id = project.name, actor.id
    body = json_body()
    code = text_field(body, "code")
    confirm = body.get("confirm", False)
    if not isinstance(confirm, bool):
        raise MalformedRequestError("The field confirm must be true or false.", field="confirm")
    outcome = erase_participant(database, services().blobs, project_id, code, keys,
                                secret=server_secret(services().settings), actor_id=actor_id, confirm=confirm)
    plan = outcome.plan
    return json_response({
        "performed": outcome.performed,
        "at": outcome.at.isoformat(),
        "reference": outcome.reference,
        "submissions": {form: len(ids) for form, ids in plan.submissions.items()},
        "entities": {name: len(ids) for name, ids in plan.entities.items()},
        "keyLocked": sum(plan.locked.values()),
        "unreadable": sum(plan.unreadable.values()),
        "receipt": receipt_text(outcome, project_name),
    })
