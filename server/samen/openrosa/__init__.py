"""OpenRosa for ODK Collect: form list, form download, manifest, media and submission; and draft testing."""

from samen.openrosa import draft_testing  # noqa: F401  (registers the /v1/test/{token}/… routes on `openrosa`)
from samen.openrosa.routes import openrosa

__all__ = ["openrosa"]
