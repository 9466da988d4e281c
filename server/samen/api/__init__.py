"""The ODK Central-compatible REST API under `/v1`, the surface pyodk and staff scripts use.

Layering follows Central's backend: handlers here parse the request, check the
actor's rights, call the library (publishing, ingest, keyring, decrypting) and
render a wire shape from `frames`. Problems become JSON in `errors` only.

OpenRosa (`samen.openrosa`) already serves `GET F.xml`, `F/manifest` and
`F/attachments/{name}` under `/v1/projects/...`; they are not registered again.
"""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/v1")

# Each module registers its routes on `api` when imported.
from samen.api import (  # noqa: E402,F401  (import for the side effect of registering routes)
    app_users,
    drafts,
    errors,
    forms,
    keys,
    openapi,
    projects,
    sessions,
    submission_files,
    submissions,
    users,
)

# Modules owned by other engineers register here, on the same blueprint
# (datasets and entities: samen.api.datasets).
from samen.api import datasets, exports, odata  # noqa: E402,F401
from samen.api import erasure  # noqa: E402,F401

__all__ = ["api"]
