"""Draft testing for Collect, at Central's addresses: `/v1/test/{token}/projects/{pid}/forms/{xmlFormId}/draft/…`.

The draft's testing QR code sets Collect's server URL to `…/draft`; Collect
asks `…/draft/formList` and sends to `…/draft/submission`, and downloads from
the URLs the list names (`…/draft.xml`, `…/draft/manifest`, its attachments).
The token is the only credential and opens only this draft (`samen.draft_testing`).
Headers, error bodies and uploads are the other OpenRosa endpoints' own.
"""

from __future__ import annotations

import hashlib

from flask import Response, request

from samen.app import public_base_url, services
from samen.collect_settings import draft_testing_server_url
from samen.draft_testing import DraftUnderTest, open_draft
from samen.openrosa import responses
from samen.openrosa.routes import (
    attachment_response,
    definition_response,
    form_list_entry,
    manifest_response,
    openrosa,
    receive_submission,
    require_openrosa_header,
)

DRAFT = "/v1/test/<token>/projects/<int:project_id>/forms/<path:xml_form_id>/draft"


def _draft_url(tested: DraftUnderTest, token: str) -> str:
    return draft_testing_server_url(public_base_url(), tested.form.project_id, tested.form.xml_form_id, token)


@openrosa.get(DRAFT + "/formList")
def draft_form_list(token: str, project_id: int, xml_form_id: str) -> Response:
    """OpenRosa form list of a draft under test: that draft only."""
    require_openrosa_header()
    with services().database.session() as session:
        tested = open_draft(session, token, project_id, xml_form_id)
        entries = []
        if request.args.get("formID") in (None, "", tested.form.xml_form_id):
            md5 = hashlib.md5(tested.xml()).hexdigest()
            entries.append(form_list_entry(session, tested.form, tested.draft, _draft_url(tested, token),
                                           tested.version, md5))
    return responses.xml_response(responses.form_list(entries))


@openrosa.get(DRAFT + ".xml")
def draft_form_xml(token: str, project_id: int, xml_form_id: str) -> Response:
    """The draft's XForm as phones get it for testing (with the project key when the form is encrypted)."""
    with services().database.session() as session:
        return definition_response(open_draft(session, token, project_id, xml_form_id).xml())


@openrosa.get(DRAFT + "/manifest")
def draft_form_manifest(token: str, project_id: int, xml_form_id: str) -> Response:
    """OpenRosa manifest of the draft's media and CSV files."""
    require_openrosa_header()
    with services().database.session() as session:
        tested = open_draft(session, token, project_id, xml_form_id)
        return manifest_response(session, tested.form, tested.draft.id, _draft_url(tested, token))


@openrosa.get(DRAFT + "/attachments/<name>")
def draft_form_attachment(token: str, project_id: int, xml_form_id: str, name: str) -> Response:
    """One file of the draft under test (media, CSV)."""
    with services().database.session() as session:
        tested = open_draft(session, token, project_id, xml_form_id)
        return attachment_response(session, tested.form, tested.draft.id, name)


@openrosa.route(DRAFT + "/submission", methods=["HEAD"])
def draft_submission_head(token: str, project_id: int, xml_form_id: str) -> Response:
    """OpenRosa pre-flight for test submissions: 204 while the draft's token is valid."""
    require_openrosa_header()
    with services().database.session() as session:
        open_draft(session, token, project_id, xml_form_id)
    return Response(status=204)


@openrosa.post(DRAFT + "/submission")
def draft_submission_post(token: str, project_id: int, xml_form_id: str) -> Response:
    """A test submission for the draft: stored apart from real data, deleted when the draft ends."""
    return receive_submission(project_id, lambda session: open_draft(session, token, project_id, xml_form_id).tester())
