"""Content-addressed file storage: bytes live on disk under their SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Writes are durable (fsync of the file and its folder) before `put` returns,
    because a phone deletes its copy once it gets a 201."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store the bytes and return their digest."""
        digest = sha256_hex(data)
        self.keep(digest, data)
        return digest

    def keep(self, digest: str, data: bytes) -> None:
        """Make sure the file for bytes already hashed is on disk, and marked as wanted now."""
        target = self.path(digest)
        if target.exists() and target.stat().st_size == len(data):
            os.utime(target)  # a fresh mtime tells a concurrent clean-up (samen.retention) that it is wanted again
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def delete_if_untouched_since(self, sha256: str, since: float) -> bool:
        """Delete the file unless it was written or put again at or after `since` (a time.time() value)."""
        path = self.path(sha256)
        try:
            if path.stat().st_mtime >= since:
                return False
        except FileNotFoundError:
            return False
        path.unlink(missing_ok=True)
        return True

    def all_digests(self) -> set[str]:
        """Every digest on disk: retention and erasure tests list the store with it."""
        return {p.name for p in self.root.glob("??/??/*") if not p.name.startswith(".")}
