"""One catalogue of problems, each with Central's numeric code.

A problem is raised anywhere below the web layer and rendered in exactly one
place per surface: JSON `{"code","message","details"}` for `/v1` (see
`api/errors.py`) and an OpenRosa XML envelope for phones (see
`openrosa/responses.py`). The HTTP status is always floor(code).
"""

from __future__ import annotations

import math
from typing import Any


class Problem(Exception):
    """Base of every error a client can be shown."""

    code: float = 500.1
    default_message = "An internal error occurred."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    @property
    def status(self) -> int:
        return math.floor(self.code)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class MalformedRequestError(Problem):
    """The request body could not be parsed."""

    code = 400.1
    default_message = "The request could not be understood: the body is malformed."


class MissingParameterError(Problem):
    """A required part or parameter is missing."""

    code = 400.2
    default_message = "A required parameter is missing."


class InvalidXmlError(Problem):
    """XML that is not well formed, or that uses a DTD or entities."""

    code = 400.3
    default_message = "The XML could not be parsed."


class InvalidFormError(Problem):
    """A form definition that cannot be published."""

    code = 400.4
    default_message = "The form definition is not valid."


class XlsFormWarningsError(Problem):
    """pyxform produced warnings and the caller did not ignore them."""

    code = 400.16
    default_message = "The XLSForm is valid, but it has warnings. Resubmit with ignoreWarnings=true to proceed."


class WrongPassphraseError(Problem):
    """The passphrase does not unlock the key."""

    code = 400.27
    default_message = "The passphrase is wrong: it does not unlock this project key."


class DecryptionError(Problem):
    """Ciphertext that cannot be decrypted (corrupt, truncated or wrong key)."""

    code = 400.28
    default_message = "The submission could not be decrypted."


class AuthenticationError(Problem):
    """No credentials, or credentials that are not valid."""

    code = 401.2
    default_message = "Could not authenticate with the provided credentials."


class ForbiddenError(Problem):
    """Authenticated, but not allowed to do this."""

    code = 403.1
    default_message = "The authenticated actor does not have rights to perform that action."


class KeyLockedError(Problem):
    """Encrypted data was asked for while the project key is locked."""

    code = 403.5
    default_message = "The project key is locked: unlock it with a custodian's passphrase to read encrypted data."


class NotFoundError(Problem):
    """The resource does not exist (or is not visible to the caller)."""

    code = 404.1
    default_message = "Could not find the resource you were looking for."


class DraftAccessError(Problem):
    """A draft-testing token that opens no draft: never issued, or its draft was published or deleted."""

    code = 404.4
    default_message = (  # Central's words first: testers may search for them
        "You tried to access a draft testing endpoint, but it does not exist anymore or your access is no longer "
        "valid. If the form has been published, set the phone up with an app user's QR code to submit to it. "
        "If there is a new draft, scan its testing QR code again."
    )


class FormVersionNotFoundError(Problem):
    """A submission names a form version that was never published."""

    code = 404.7
    default_message = "The form version this submission names was never published on this server."


class NotAcceptedError(Problem):
    """The form exists but does not accept submissions (closed)."""

    code = 409.2
    default_message = "This form is closed and no longer accepts submissions."


class AlreadyExistsError(Problem):
    """A resource with this identity already exists."""

    code = 409.3
    default_message = "A resource already exists with that identity."


class SubmissionConflictError(Problem):
    """The same instanceID was sent again with different content."""

    code = 409.5
    default_message = (
        "A submission with this instanceID already exists with different content. "
        "If you meant to edit it, send it with a new instanceID and meta/deprecatedID."
    )


class VersionExistsError(Problem):
    """A form version string is published already."""

    code = 409.6
    default_message = "A form version with that version string already exists. Choose a new version."


class EntityVersionConflictError(Problem):
    """An entity update named a baseVersion that is no longer current."""

    code = 409.15
    default_message = "The entity has changed since the baseVersion given: fetch it again or use force."


class PayloadTooLargeError(Problem):
    """The request body is over the configured limit."""

    code = 413.1
    default_message = "The upload is larger than this server accepts."


class RateLimitedError(Problem):
    """Too many failed attempts."""

    code = 429.1
    default_message = "Too many failed attempts. Wait a few minutes before trying again."


class NotImplementedProblem(Problem):
    """A feature (often an OData option) this server does not support."""

    code = 501.1
    default_message = "The requested feature is not supported by this server."
