"""The project list and a project's page: forms, phones, custodians, activity and two charts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from markupsafe import Markup

from samen.app import services
from samen.console import charts, console
from samen.console.queries import (
    app_users,
    audit_events,
    form_summaries,
    recent_project_submissions,
    submission_times,
    user_names,
    visible_projects,
)
from samen.console.reading import CITY_FIELD, SubmissionReader, form_layout, project_keychain
from samen.console.unlock import key_status
from samen.console.web import DISPLAY_ZONE, _, actor, console_token, current_locale, page, readable_project
from samen.decrypting import record_decryption
from samen.entities import intake as entity_intake
from samen.keyring import custodians
from samen.models import Form
from samen.publishing import active_project_key

CHART_DAYS = 30
ACTIVITY_EVENTS = 10


@console.route("/")
def project_list():
    with services().database.session() as db:
        projects = visible_projects(db, actor())
        summaries = {project.id: form_summaries(db, project.id) for project in projects}
        return page("projects.html", projects=projects, summaries=summaries)


@dataclass(frozen=True)
class ProjectCharts:
    per_day: Markup
    per_city: Markup | None
    unreadable: int  # submissions in the period whose city could not be read (key locked)


def _chart_start() -> datetime:
    today = datetime.now(DISPLAY_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return (today - timedelta(days=CHART_DAYS - 1)).astimezone(timezone.utc)


def _project_charts(db, project_id: int) -> ProjectCharts:
    since = _chart_start()
    days = Counter(moment.astimezone(DISPLAY_ZONE).date() for moment in submission_times(db, project_id, since))
    first = since.astimezone(DISPLAY_ZONE).date()
    per_day = [(first + timedelta(days=offset), days.get(first + timedelta(days=offset), 0)) for offset in range(CHART_DAYS)]
    keys = project_keychain(db, project_id, console_token())
    readers: dict[int, SubmissionReader | None] = {}
    cities: Counter[str] = Counter()
    unreadable = 0
    for submission, version in recent_project_submissions(db, project_id, since):
        if submission.form_id not in readers:
            layout = form_layout(db, db.get(Form, submission.form_id))
            readers[submission.form_id] = layout and SubmissionReader(db, services().blobs, layout, keys, current_locale())
        reader = readers[submission.form_id]
        shown = reader.show(submission, version) if reader else None
        if shown is None or shown.problem is not None:
            unreadable += 1
        elif (city := shown.answer(CITY_FIELD)) is not None:
            cities[city.text] += 1
    for form_id, reader in readers.items():
        if reader is not None:
            record_decryption(db, actor_id=actor().id, project_id=project_id, xml_form_id=db.get(Form, form_id).xml_form_id,
                              count=reader.decrypted, purpose="console.chart")
    return ProjectCharts(
        per_day=charts.daily_columns(per_day, _("Submissions per day, last {days} days", days=CHART_DAYS)),
        per_city=charts.labelled_bars(sorted(cities.items()), _("Submissions per city")) if cities else None,
        unreadable=unreadable,
    )


@console.route("/projects/<int:project_id>")
def project_page(project_id: int):
    with services().database.session() as db:
        readable_project(db, project_id)
    if actor().can("key.unlock", project_id):
        # Encrypted intakes that reached the server after this browser unlocked the key wait for its keys:
        # while the unlock lasts, they are applied to the phones' follow-up lists whenever staff open the project.
        entity_intake.process_for_session(services().database, services().blobs, project_id, console_token(),
                                          actor_id=actor().id)
    with services().database.session() as db:
        project = readable_project(db, project_id)
        key = active_project_key(db, project_id)
        can_audit = actor().can("audit.read", project_id)
        events = audit_events(db, project_id, 0, ACTIVITY_EVENTS)[:ACTIVITY_EVENTS] if can_audit else []
        return page(
            "project.html", project=project, forms=form_summaries(db, project_id),
            phones=app_users(db, project_id) if actor().can("app_user.read", project_id) else None,
            custodians=custodians(db, key.id) if key else [], key_status=key_status(db, project_id),
            events=events, names=user_names(db, (event.actor_id for event in events)),
            charts=_project_charts(db, project_id) if actor().can("submission.read", project_id) else None,
        )
