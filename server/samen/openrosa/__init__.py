"""OpenRosa for ODK Collect: form list, form download, manifest, media and submission."""

from samen.openrosa.routes import openrosa

__all__ = ["openrosa"]
