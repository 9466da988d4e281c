"""OData feeds of a form's submissions: `P/forms/{id}.svc`, `$metadata`, `Submissions` and repeat tables.

What Power BI, Excel and pyodk's `submissions.get_table` read. Shapes are
ODK Central's (see samen.odata). Rows stream as JSON while they are read;
without `$top` every matching row is sent, as Central does, because pyodk
does not follow `@odata.nextLink`.

Encrypted forms: `$metadata` and the service document are always served
(they hold no answers); rows only to a caller who has unlocked the project
key with `POST P/key/unlock` (bound to their bearer token), else 403.5.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, request
from sqlalchemy import and_
from sqlalchemy.orm import Session

from samen.api import api
from samen.api.context import form_for, request_actor
from samen.api.frames import iso, json_response
from samen.api.keys import caller_key_chain
from samen.app import services
from samen.auth import Actor
from samen.decrypting import KeyChain, record_decryption
from samen.export_service import (
    SYSTEM_COLUMNS,
    FormSubmission,
    count_submissions,
    form_schema,
    is_encrypted,
    read_form_submissions,
    submissions_condition,
)
from samen.models import Form, Submission
from samen.odata.entities import ROOT_TABLE, EntityOptions, FormEntities, odata_name, table_name
from samen.odata.filters import filter_sql, matches, members
from samen.odata.metadata import edmx, service_document
from samen.odata.query import ODataQuery, check_properties, known_properties, lookup, read_query, selected, skiptoken
from samen.problems import InvalidXmlError, KeyLockedError, NotFoundError
from samen.safexml import parse_xml
from samen.schema import Path

SVC = "/projects/<int:project_id>/forms/<path:xml_form_id>.svc"
_SINGLE = re.compile(r"^Submissions\('(?P<id>(?:[^']|'')+)'\)(?P<rest>(?:/.+)?)$")
_KEYED_STEP = re.compile(r"^(?P<name>[^(]+)\('(?P<key>[0-9a-f]+)'\)$")
ORDER_COLUMNS = {("__id",): Submission.instance_id, ("__system", "submissionDate"): Submission.created_at,
                 ("__system", "updatedAt"): Submission.updated_at}


@api.get(SVC)
def odata_service(project_id: int, xml_form_id: str) -> Response:
    with services().database.session() as session:
        form, entities, _actor = _readable_form(session, project_id, xml_form_id)
        return json_response(service_document(entities, _service_url(form) + "/$metadata"))


@api.get(SVC + "/$metadata")
def odata_metadata(project_id: int, xml_form_id: str) -> Response:
    with services().database.session() as session:
        _form, entities, _actor = _readable_form(session, project_id, xml_form_id)
        return Response(edmx(entities), content_type="application/xml")


@api.get(SVC + "/<path:resource>")
def odata_table(project_id: int, xml_form_id: str, resource: str) -> Response:
    with services().database.session() as session:
        form, entities, actor = _readable_form(session, project_id, xml_form_id)
        keys = _unlocked_keys(session, form, actor)
        actor_id = actor.id
    single = _SINGLE.match(resource)
    if single:
        instance_id = single["id"].replace("''", "'")
        repeat, parent_key = _navigation(entities, single["rest"])
        feed = _Feed(form, entities, keys, actor_id, repeat, read_query(request.args, repeat=bool(repeat)))
        return feed.response(instance_id=instance_id, parent_key=parent_key)
    repeat = _table_path(entities, resource)
    return _Feed(form, entities, keys, actor_id, repeat, read_query(request.args, repeat=bool(repeat))).response()


class _Feed:
    """One OData data request: which table, which rows, and how they are written."""

    def __init__(self, form: Form, entities: FormEntities, keys: KeyChain, actor_id: int, repeat: Path,
                 query: ODataQuery) -> None:
        self.form, self.entities, self.keys, self.actor_id = form, entities, keys, actor_id
        self.repeat, self.query = repeat, query
        self.options = EntityOptions(expand=query.expand, wkt=query.wkt)
        known = known_properties(entities, repeat)
        check_properties(query.select or (), known, "$select")
        if query.filter is not None:
            check_properties(members(query.filter), known, "$filter")
        # The database answers __system filters on Submissions; anything else is tested on decrypted rows.
        self.sql_filter = filter_sql(query.filter, SYSTEM_COLUMNS) if query.filter is not None and not repeat else None
        self.row_filter = query.filter if self.sql_filter is None else None
        self.context = f"{_service_url(form)}/$metadata#{table_name(repeat)}"
        # The body is written after the view returns, outside the request context: keep what it needs.
        self.services = services()
        self.arguments = request.args.to_dict()
        self.url = _public_base() + quote(request.path, safe="/()'$:@!*,;=")

    def response(self, instance_id: str | None = None, parent_key: str | None = None) -> Response:
        condition = self.sql_filter
        if instance_id is not None:
            condition = and_(*(c for c in (condition, Submission.instance_id == instance_id) if c is not None))
            with self.services.database.session() as session:
                if not count_submissions(session, submissions_condition(self.form, condition=condition)):
                    raise NotFoundError(f"There is no submission {instance_id} in this form.")
        return Response(self._chunks(condition, parent_key), content_type="application/json")

    def _chunks(self, condition, parent_key: str | None) -> Iterator[str]:
        query = self.query
        paging_in_sql = self.row_filter is None and not self.repeat
        decrypted = 0
        with self.services.database.session() as session:
            where = submissions_condition(self.form, condition=condition)
            total = count_submissions(session, where) if query.count and paging_in_sql else None
            if query.after is not None:
                where = and_(where, Submission.id > query.after)
            order = tuple(ORDER_COLUMNS[o.member].desc() if o.descending else ORDER_COLUMNS[o.member] for o in query.order)
            submissions = read_form_submissions(
                session, self.services.blobs, where, self.keys, order_by=order,
                offset=query.skip if paging_in_sql else 0,
                limit=query.top + 1 if paging_in_sql and query.top is not None else None)
            yield f'{{"@odata.context":{json.dumps(self.context)},"value":['
            emitted, matched, more, last_id = 0, 0, False, None
            for item in submissions:
                decrypted += item.decrypted
                for entity in self._entities(item, parent_key):
                    if self.row_filter is not None and not matches(self.row_filter, lambda path: lookup(entity, path)):
                        continue
                    matched += 1
                    if not paging_in_sql and matched <= query.skip:
                        continue
                    if query.top is not None and emitted >= query.top:
                        more = True
                        continue
                    if query.select is not None:
                        entity = selected(entity, query.select)
                    yield ("," if emitted else "") + json.dumps(entity, ensure_ascii=False)
                    emitted, last_id = emitted + 1, item.submission_id
                if more and (total is not None or not query.count):
                    break
            yield "]"
            if query.count:
                yield f',"@odata.count":{total if total is not None else matched}'
            if more:
                yield f',"@odata.nextLink":{json.dumps(self._next_link(last_id, emitted))}'
            yield "}"
            record_decryption(session, actor_id=self.actor_id, project_id=self.form.project_id,
                              xml_form_id=self.form.xml_form_id, count=decrypted, purpose="odata")

    def _entities(self, item: FormSubmission, parent_key: str | None) -> Iterator[dict[str, Any]]:
        instance_id = item.meta.instance_id
        instance = None
        if item.readable.xml is not None:
            try:
                instance = parse_xml(item.readable.xml)
            except InvalidXmlError:
                instance = None
        if not self.repeat:
            yield self.entities.submission(instance_id, instance, system_properties(item), self.options)
            return
        parent_property = self.entities.parent_property(self.repeat)
        for row in self.entities.repeat_rows(self.repeat, instance_id, instance, self.options):
            if parent_key is None or row[parent_property] == parent_key:
                yield row

    def _next_link(self, last_id: int | None, emitted: int) -> str:
        arguments = {name: value for name, value in self.arguments.items() if name not in ("$skip", "$skiptoken")}
        if not self.repeat and not self.query.order and self.row_filter is None and last_id is not None:
            arguments["$skiptoken"] = skiptoken(last_id)  # stable while new submissions arrive
        else:
            arguments["$skip"] = str(self.query.skip + emitted)
        return f"{self.url}?{urlencode(arguments)}"


def system_properties(item: FormSubmission) -> dict[str, Any]:
    """`__system` as Central writes it (submitterId as text)."""
    meta = item.meta
    return {
        "submissionDate": iso(meta.submission_date),
        "updatedAt": iso(item.updated_at),
        "submitterId": str(meta.submitter_id) if meta.submitter_id is not None else None,
        "submitterName": meta.submitter_name,
        "attachmentsPresent": meta.attachments_present,
        "attachmentsExpected": meta.attachments_expected,
        "status": meta.status,
        "reviewState": meta.review_state,
        "deviceId": meta.device_id,
        "edits": meta.edits,
        "formVersion": meta.form_version,
    }


def _readable_form(session: Session, project_id: int, xml_form_id: str) -> tuple[Form, FormEntities, Actor]:
    actor = request_actor(session)
    form = form_for(session, actor, project_id, xml_form_id, "submission.read")
    return form, FormEntities(form_schema(session, form)), actor


def _unlocked_keys(session: Session, form: Form, actor: Actor) -> KeyChain:
    if not is_encrypted(session, form):
        return KeyChain()
    keys = caller_key_chain(session, actor, form.project_id)
    if not keys:
        raise KeyLockedError(
            "This form is encrypted and the project key is locked for you: unlock it with "
            f"POST /v1/projects/{form.project_id}/key/unlock and a custodian's passphrase, then ask again.")
    return keys


def _table_path(entities: FormEntities, resource: str) -> Path:
    """`Submissions` → (); `Submissions.household.members` → the repeat's path; anything else 404."""
    if resource == ROOT_TABLE:
        return ()
    for path in entities.repeat_paths():
        if table_name(path) == resource:
            return path
    raise NotFoundError(f"This form has no table {resource}: see the service document for the tables it has.")


def _navigation(entities: FormEntities, rest: str) -> tuple[Path, str | None]:
    """`/household/members('…')/visits` → (path of visits, the members row's __id); '' → ((), None)."""
    path: Path = ()
    parent_key = None
    for step in (part for part in rest.split("/") if part):
        keyed = _KEYED_STEP.match(step)
        name = keyed["name"] if keyed else step
        child = next((item for item in entities.children.get(path, ()) if odata_name(item.name) == name
                      and item.kind != "field"), None)
        if child is None:
            raise NotFoundError(f"There is no group or repeat {name} here.")
        path = child.path
        if keyed:
            parent_key = keyed["key"]
    if path and entities.fields[path].kind != "repeat":
        raise NotFoundError("Navigate to a repeat, not a group.")
    return path, parent_key if path else None


def _public_base() -> str:
    public = services().settings.public_url
    return public or request.host_url.rstrip("/")


def _service_url(form: Form) -> str:
    return f"{_public_base()}/v1/projects/{form.project_id}/forms/{quote(form.xml_form_id, safe='')}.svc"
