"""Project keys: the public half in the clear, the private half only wrapped."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from samen.models.base import Base, UtcDateTime, utcnow


class ProjectKey(Base):
    __tablename__ = "project_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[str] = mapped_column(Text)  # base64 DER SubjectPublicKeyInfo, as forms carry it
    hint: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(20), default="generated")  # generated | pem | central
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # rotated out: old data still decrypts


class KeySlot(Base):
    """One custodian's passphrase slot: the same private key, wrapped under their passphrase."""

    __tablename__ = "key_slots"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("project_keys.id", ondelete="CASCADE"), index=True)
    custodian: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    wrapped: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class KeyUnlock(Base):
    """A bounded unlock: the private key re-wrapped under a secret only the caller holds.

    The secret lives in the caller's session token or cookie, never here, so a
    database dump taken during an unlock holds nothing usable; the row is
    deleted at lock or expiry.
    """

    __tablename__ = "key_unlocks"
    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("project_keys.id", ondelete="CASCADE"), index=True)
    holder_sha256: Mapped[str] = mapped_column(String(64), index=True)  # hash of the session that may use it
    user_id: Mapped[int | None] = mapped_column(Integer)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
