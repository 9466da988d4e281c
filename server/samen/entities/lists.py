"""Entity lists and their properties: created through the API or learned from published forms.

A form's `meta/entity` block names the list it writes and its `save_to`
fields the properties. A form reads a list through a CSV attachment named
`<list>.csv`; such attachments are linked to the list (kind `entityList`) so
the manifest serves the live list instead of an uploaded file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from samen import audit
from samen.entities.actions import is_valid_property_name
from samen.entities.formats import entity_list_csv
from samen.formlint import lint_xform
from samen.models import Dataset, DatasetProperty, Entity, Form, FormAttachment, FormVersion
from samen.problems import AlreadyExistsError, MalformedRequestError, NotFoundError
from samen.xform import EntityDeclaration, per_definition, read_xform

ENTITY_LIST = "entityList"
_DATASET_NAME = re.compile(r"^(?!__)[A-Za-z_][A-Za-z0-9_.\-]{0,199}$")


@dataclass(frozen=True)
class EntityPlan:
    """What a form version does to an entity list, and the properties it may write there."""

    declaration: EntityDeclaration
    allowed_properties: frozenset[str]
    refused_properties: frozenset[str]  # saved from fields the form linter calls identifying


def _plan(form_xml: bytes) -> EntityPlan | None:
    declaration = read_xform(form_xml).entity
    if declaration is None:
        return None
    # The list is readable by every phone without a custodian: a field the linter calls identifying
    # never becomes a property, even when the form itself is allow-listed for it.
    identifying = {finding.field_path for finding in lint_xform(form_xml)}
    refused = {name for name, nodeset in declaration.properties if nodeset in identifying}
    allowed = {name for name, _ in declaration.properties if name not in refused and is_valid_property_name(name)}
    return EntityPlan(declaration, frozenset(allowed), frozenset(refused))


entity_plan = per_definition(_plan)


def find_dataset(session: Session, project_id: int, name: str) -> Dataset | None:
    return session.scalar(select(Dataset).where(Dataset.project_id == project_id, Dataset.name == name))


def get_dataset(session: Session, project_id: int, name: str) -> Dataset:
    dataset = find_dataset(session, project_id, name)
    if dataset is None:
        raise NotFoundError(f"There is no entity list '{name}' in this project.", datasetName=name)
    return dataset


def list_datasets(session: Session, project_id: int) -> list[Dataset]:
    return list(session.scalars(select(Dataset).where(Dataset.project_id == project_id).order_by(Dataset.name)))


def dataset_properties(session: Session, dataset_id: int) -> list[DatasetProperty]:
    return list(session.scalars(
        select(DatasetProperty).where(DatasetProperty.dataset_id == dataset_id).order_by(DatasetProperty.id)))


def create_dataset(session: Session, project_id: int, name: str, *, approval_required: bool = False,
                   actor_id: int | None = None) -> Dataset:
    """A new, empty list (Central: `POST /projects/{id}/datasets`); 409.3 if the name is taken."""
    if not _DATASET_NAME.match(name or ""):
        raise MalformedRequestError(
            "An entity list name must start with a letter or '_' and hold only letters, digits, '_', '-' or '.'.")
    taken = session.scalar(select(Dataset.id).where(Dataset.project_id == project_id,
                                                    func.lower(Dataset.name) == name.lower()))
    if taken is not None:
        raise AlreadyExistsError(f"An entity list named '{name}' already exists in this project.", datasetName=name)
    dataset = Dataset(project_id=project_id, name=name, approval_required=approval_required)
    session.add(dataset)
    session.flush()
    audit.record(session, "dataset.create", actor_id=actor_id, project_id=project_id, datasetName=name)
    _link_waiting_attachments(session, dataset)
    return dataset


def add_property(session: Session, dataset: Dataset, name: str, *, actor_id: int | None = None) -> DatasetProperty:
    """A new column (Central: `POST …/datasets/{name}/properties`); 409.3 if it exists."""
    if not is_valid_property_name(name or ""):
        raise MalformedRequestError(
            "A property name must be an XML name that is not 'name' or 'label' and does not start with '__'.")
    existing = session.scalar(select(DatasetProperty.id).where(
        DatasetProperty.dataset_id == dataset.id, func.lower(DatasetProperty.name) == name.lower()))
    if existing is not None:
        raise AlreadyExistsError(f"The entity list already has a property '{name}'.", propertyName=name)
    prop = DatasetProperty(dataset_id=dataset.id, name=name, forms=[])
    session.add(prop)
    session.flush()
    audit.record(session, "dataset.property.create", actor_id=actor_id, project_id=dataset.project_id,
                 datasetName=dataset.name, propertyName=name)
    return prop


def learn_from_published_form(session: Session, form: Form, version: FormVersion) -> None:
    """Called by publishing: create the list and properties the form writes, link the lists it reads."""
    plan = entity_plan(version)
    if plan is not None:
        dataset = find_dataset(session, form.project_id, plan.declaration.dataset)
        if dataset is None:
            dataset = create_dataset(session, form.project_id, plan.declaration.dataset)
        properties = {p.name: p for p in dataset_properties(session, dataset.id)}
        for name in sorted(plan.allowed_properties):
            prop = properties.get(name) or add_property(session, dataset, name)
            if form.xml_form_id not in prop.forms:
                prop.forms = [*prop.forms, form.xml_form_id]  # reassigned: JSON columns do not track appends
        if plan.refused_properties:
            audit.record(session, "dataset.property.refused", project_id=form.project_id, datasetName=dataset.name,
                         xmlFormId=form.xml_form_id, properties=sorted(plan.refused_properties),
                         reason="saved from a field the form linter calls identifying")
    for attachment in session.scalars(select(FormAttachment).where(FormAttachment.form_version_id == version.id)):
        _link(session, form.project_id, attachment)


def _link(session: Session, project_id: int, attachment: FormAttachment) -> None:
    if not attachment.name.endswith(".csv") or attachment.blob_sha256 is not None:
        return  # an uploaded file wins, as in Central
    dataset = find_dataset(session, project_id, attachment.name.removesuffix(".csv"))
    if dataset is not None:
        attachment.kind = ENTITY_LIST
        attachment.dataset_name = dataset.name


def _link_waiting_attachments(session: Session, dataset: Dataset) -> None:
    """Forms published before the list existed (a follow-up before its intake) read it from now on."""
    waiting = session.scalars(
        select(FormAttachment).join(Form, Form.current_version_id == FormAttachment.form_version_id)
        .where(Form.project_id == dataset.project_id, FormAttachment.name == f"{dataset.name}.csv",
               FormAttachment.blob_sha256.is_(None)))
    for attachment in waiting:
        attachment.kind = ENTITY_LIST
        attachment.dataset_name = dataset.name


def change_token(session: Session, dataset: Dataset) -> str:
    """Changes whenever the served CSV would: Collect re-downloads the list when the manifest hash differs.

    Every create, update and delete moves the entity count, the sum of versions
    or the latest change time (deleted rows keep their time of deletion).
    """
    count, versions, latest = session.execute(
        select(func.count(Entity.id), func.coalesce(func.sum(Entity.version), 0),
               func.max(func.coalesce(Entity.updated_at, Entity.created_at)))
        .where(Entity.dataset_id == dataset.id)
    ).one()
    columns = ",".join(p.name for p in dataset_properties(session, dataset.id))
    return hashlib.md5(f"{dataset.id}|{count}|{versions}|{latest}|{columns}".encode()).hexdigest()


def entity_list_bytes(session: Session, dataset: Dataset) -> bytes:
    """The CSV phones download: live entities only, oldest first."""
    properties = [p.name for p in dataset_properties(session, dataset.id)]
    rows = session.execute(select(Entity.uuid, Entity.label, Entity.version, Entity.data)
                           .where(Entity.dataset_id == dataset.id, Entity.deleted_at.is_(None)).order_by(Entity.id))
    return entity_list_csv(properties, rows)
