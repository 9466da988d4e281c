"""All tables; importing this module registers them on `Base.metadata` for Alembic."""

from samen.models.base import Base, utcnow
from samen.models.core import (
    AppUser,
    AuditEvent,
    Blob,
    Comment,
    Form,
    FormAssignment,
    FormAttachment,
    FormVersion,
    LoginFailure,
    Project,
    ProjectRole,
    SessionToken,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    User,
)
from samen.models.entities import (
    Dataset,
    DatasetProperty,
    Entity,
    EntityConflict,
    EntityVersion,
    PendingEntitySubmission,
)
from samen.models.keys import KeySlot, KeyUnlock, ProjectKey

__all__ = [
    "AppUser", "AuditEvent", "Base", "Blob", "Comment", "Dataset", "DatasetProperty", "Entity", "EntityConflict",
    "EntityVersion", "Form", "FormAssignment", "FormAttachment", "PendingEntitySubmission",
    "FormVersion", "KeySlot", "KeyUnlock", "LoginFailure", "Project", "ProjectKey", "ProjectRole",
    "SessionToken", "Submission", "SubmissionAttachment", "SubmissionVersion", "User", "utcnow",
]
