"""Draft testing as ODK Central does it: a draft's token lets Collect fetch that draft and send test data to it.

Every draft gets a testing token when it is saved (`publishing.save_draft`).
The token is the credential in the draft's testing QR code, whose Collect
server URL is `/v1/test/{token}/projects/{pid}/forms/{xmlFormId}/draft`; it
opens that draft's form list, definition, media and submission, and nothing
else. A wrong token and a draft that was published or deleted answer alike
(404.4), as in Central.

The phone gets the draft as it will be published: with the project key
injected (and its version marked) when the form is encrypted, so test
submissions arrive encrypted, as the real ones will. They are stored apart
from real data (`Submission.draft`) and deleted when the draft ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from samen.ingest import DraftTester
from samen.models import Form, FormVersion, Project, ProjectKey
from samen.problems import DraftAccessError
from samen.publishing import version_for_phones, xml_for_phones


@dataclass(frozen=True)
class DraftUnderTest:
    """The draft a testing token opened, and the version string and key phones get it with."""

    form: Form
    draft: FormVersion
    version: str
    key: ProjectKey | None

    def xml(self) -> bytes:
        """The XForm as served: exactly the bytes the form list's hash describes."""
        return xml_for_phones(self.draft, self.version, self.key)

    def tester(self) -> DraftTester:
        """What ingest needs to take a test submission for this draft."""
        return DraftTester(
            xml_form_id=self.form.xml_form_id, form_id=self.form.id, version_id=self.draft.id, version=self.version,
            sha256=self.draft.sha256, public_key=self.key.public_key if self.key else self.draft.public_key,
            key_id=self.key.id if self.key else None,
        )


def open_draft(session: Session, token: str, project_id: int, xml_form_id: str) -> DraftUnderTest:
    """The draft the token opens at this address, or 404.4."""
    row = session.execute(
        select(Form, FormVersion)
        .join(FormVersion, FormVersion.id == Form.draft_version_id)
        .join(Project, Project.id == Form.project_id)
        .where(Form.project_id == project_id, Form.xml_form_id == xml_form_id, Form.deleted_at.is_(None),
               Project.deleted_at.is_(None), FormVersion.draft_token == token)
    ).first()
    if row is None:
        raise DraftAccessError()
    form, draft = row
    version, key = version_for_phones(session, form, draft)
    return DraftUnderTest(form, draft, version, key)
