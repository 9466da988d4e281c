"""All SQL the console's pages run; views call these and never build queries themselves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from samen.auth import Actor
from samen.models import (
    AppUser,
    AuditEvent,
    Comment,
    Form,
    FormAssignment,
    FormVersion,
    KeyUnlock,
    Project,
    SessionToken,
    Submission,
    SubmissionVersion,
    User,
)

PAGE_SIZE = 25
REVIEW_STATES = ("received", "hasIssues", "edited", "approved", "rejected")  # Central's; "received" is stored as NULL
# The submissions pages, counts and charts show: not deleted, and real (a draft's test submissions are not).
_SHOWN = (Submission.deleted_at.is_(None), Submission.draft.is_(False))


@dataclass(frozen=True)
class FormSummary:
    form: Form
    current: FormVersion | None
    draft: FormVersion | None
    submissions: int
    last_submission_at: datetime | None


@dataclass(frozen=True)
class SubmissionFilters:
    """What the submissions table can be narrowed by; dates are UTC bounds, `until` exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    review_state: str | None = None
    city: str | None = None  # matched after reading, since the city may be encrypted


def visible_projects(session: Session, actor: Actor) -> list[Project]:
    query = select(Project).where(Project.deleted_at.is_(None)).order_by(Project.name)
    visible = actor.visible_project_ids()
    if visible is not None:
        query = query.where(Project.id.in_(visible))
    return list(session.scalars(query))


def _submission_stats(session: Session, form_ids: Iterable[int]) -> dict[int, tuple[int, datetime | None]]:
    rows = session.execute(
        select(Submission.form_id, func.count(), func.max(Submission.created_at))
        .where(Submission.form_id.in_(list(form_ids)), *_SHOWN).group_by(Submission.form_id)
    )
    return {form_id: (count, last) for form_id, count, last in rows}


def form_summaries(session: Session, project_id: int, forms: Iterable[Form] | None = None) -> list[FormSummary]:
    if forms is None:
        forms = session.scalars(select(Form).where(Form.project_id == project_id, Form.deleted_at.is_(None))
                                .order_by(Form.xml_form_id))
    forms = list(forms)
    stats = _submission_stats(session, [form.id for form in forms])
    return [FormSummary(form, form.current_version, form.draft_version, *stats.get(form.id, (0, None))) for form in forms]


def draft_submission_count(session: Session, form_id: int) -> int:
    """How many test submissions the form's draft has received."""
    return session.scalar(select(func.count()).select_from(Submission)
                          .where(Submission.form_id == form_id, Submission.draft.is_(True)))


def published_versions(session: Session, form_id: int) -> list[FormVersion]:
    return list(session.scalars(select(FormVersion).where(
        FormVersion.form_id == form_id, FormVersion.published_at.is_not(None)).order_by(FormVersion.published_at.desc())))


def project_forms(session: Session, project_id: int) -> list[Form]:
    return list(session.scalars(select(Form).where(Form.project_id == project_id, Form.deleted_at.is_(None))
                                .order_by(Form.xml_form_id)))


def app_users(session: Session, project_id: int) -> list[tuple[AppUser, list[str]]]:
    """Each app user of the project with the form ids assigned to it, newest first."""
    users = list(session.scalars(select(AppUser).where(AppUser.project_id == project_id, AppUser.deleted_at.is_(None))
                                 .order_by(AppUser.created_at.desc(), AppUser.id.desc())))
    assigned: dict[int, list[str]] = {}
    for app_user_id, xml_form_id in session.execute(
            select(FormAssignment.app_user_id, Form.xml_form_id).join(Form, Form.id == FormAssignment.form_id)
            .where(Form.project_id == project_id).order_by(Form.xml_form_id)):
        assigned.setdefault(app_user_id, []).append(xml_form_id)
    return [(user, assigned.get(user.id, [])) for user in users]


def assigned_form_ids(session: Session, app_user_id: int) -> list[str]:
    return list(session.scalars(select(Form.xml_form_id).join(FormAssignment, FormAssignment.form_id == Form.id)
                                .where(FormAssignment.app_user_id == app_user_id).order_by(Form.xml_form_id)))


def get_app_user(session: Session, project_id: int, app_user_id: int) -> AppUser | None:
    app_user = session.get(AppUser, app_user_id)
    if app_user is None or app_user.project_id != project_id or app_user.deleted_at is not None:
        return None
    return app_user


def assign_forms(session: Session, app_user: AppUser, form_ids: set[int]) -> None:
    """Make exactly these forms the app user's."""
    session.execute(delete(FormAssignment).where(FormAssignment.app_user_id == app_user.id))
    session.add_all(FormAssignment(app_user_id=app_user.id, form_id=form_id) for form_id in sorted(form_ids))


def audit_events(session: Session, project_id: int | None, page: int, page_size: int = 50) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).offset(page * page_size).limit(page_size + 1)
    if project_id is not None:
        query = query.where(AuditEvent.project_id == project_id)
    return list(session.scalars(query))


def all_audit_events(session: Session) -> Iterator[AuditEvent]:
    """Every event, oldest first, streamed (for checking the hash chain)."""
    return session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=500))


def user_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def app_user_names(session: Session, app_user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {app_user_id for app_user_id in app_user_ids if app_user_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(AppUser.id, AppUser.display_name).where(AppUser.id.in_(ids))).all())


def submission_times(session: Session, project_id: int, since: datetime) -> list[datetime]:
    return list(session.scalars(
        select(Submission.created_at).join(Form, Form.id == Submission.form_id)
        .where(Form.project_id == project_id, *_SHOWN, Submission.created_at >= since)))


def recent_project_submissions(session: Session, project_id: int, since: datetime) -> Iterator[tuple[Submission, SubmissionVersion]]:
    """The project's submissions since a moment with their current versions (for the per-city chart)."""
    return iter(session.execute(
        select(Submission, SubmissionVersion)
        .join(SubmissionVersion, (SubmissionVersion.submission_id == Submission.id) & SubmissionVersion.current.is_(True))
        .join(Form, Form.id == Submission.form_id)
        .where(Form.project_id == project_id, *_SHOWN, Submission.created_at >= since)
        .order_by(Submission.form_id, Submission.created_at).execution_options(yield_per=200)))


def filtered_submissions(session: Session, form_id: int, filters: SubmissionFilters) -> Iterator[tuple[Submission, SubmissionVersion]]:
    """The form's submissions with their current version, newest first, narrowed by the stored columns."""
    query = (select(Submission, SubmissionVersion)
             .join(SubmissionVersion, (SubmissionVersion.submission_id == Submission.id) & SubmissionVersion.current.is_(True))
             .where(Submission.form_id == form_id, *_SHOWN)
             .order_by(Submission.created_at.desc(), Submission.id.desc()))
    if filters.since is not None:
        query = query.where(Submission.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Submission.created_at < filters.until)
    if filters.review_state == "received":
        query = query.where(Submission.review_state.is_(None) | (Submission.review_state == "received"))
    elif filters.review_state:
        query = query.where(Submission.review_state == filters.review_state)
    return iter(session.execute(query.execution_options(yield_per=200)))


def get_submission(session: Session, form_id: int, instance_id: str) -> tuple[Submission, SubmissionVersion] | None:
    row = session.execute(
        select(Submission, SubmissionVersion)
        .join(SubmissionVersion, (SubmissionVersion.submission_id == Submission.id) & SubmissionVersion.current.is_(True))
        .where(Submission.form_id == form_id, Submission.instance_id == instance_id, *_SHOWN)
    ).first()
    return tuple(row) if row else None


def edit_count(session: Session, submission_id: int) -> int:
    return session.scalar(select(func.count()).select_from(SubmissionVersion)
                          .where(SubmissionVersion.submission_id == submission_id)) - 1


def comments(session: Session, submission_id: int) -> list[Comment]:
    return list(session.scalars(select(Comment).where(Comment.submission_id == submission_id).order_by(Comment.id)))


def end_console_session(session: Session, token_sha256: str) -> None:
    """Sign out: the session token stops working and every unlock it held is gone."""
    session.execute(delete(KeyUnlock).where(KeyUnlock.holder_sha256 == token_sha256))
    session.execute(delete(SessionToken).where(SessionToken.token_sha256 == token_sha256))
