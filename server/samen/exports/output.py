"""Plumbing shared by the writers: options, atomic files, chunked output, private scratch space.

Exports hold decrypted data. So every file here is created mode 0600, an
interrupted export never leaves a half-written file under its final name, and
scratch files (xlsxwriter's per-sheet files, the SPSS writer's sealed rows)
live in a private 0700 directory removed as soon as the export ends.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 1 << 20
_UNSAFE_FILENAME = re.compile(r'[/\\?<>:*|"\x00-\x1f\x80-\x9f]')


@dataclass(frozen=True)
class ExportOptions:
    """How values and headers are shown; the table layout itself comes from `rows.RowOptions`.

    `language` picks the labels (None: the form's default language).
    `labels`: XLSX headers show question labels and cells show choice labels
    instead of names and values. SPSS always carries both (names and values as
    data, labels as metadata); CSV and JSON Lines always carry names and values,
    as Central does.
    """

    language: str | None = None
    labels: bool = False


@contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Write to a hidden temporary file beside `path`; rename it to `path` only if the block succeeds."""
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def scratch_directory() -> Iterator[Path]:
    """A private (0700) directory for an export's scratch files, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="samen-export-") as directory:
        yield Path(directory)


class ChunkBuffer:
    """A write-only file that collects bytes until `drain()`: lets zipfile feed a generator.

    It has no tell() or seek(), so zipfile writes a streamable archive (data
    descriptors after each entry) that can go straight into an HTTP response.
    """

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data

    def pending(self) -> Iterator[bytes]:
        """What was written since the last call, as zero or one chunk (never an empty one)."""
        if data := self.drain():
            yield data


def zip_entry_chunks(archive: zipfile.ZipFile, buffer: ChunkBuffer, name: str, data: Iterable[bytes]) -> Iterator[bytes]:
    """Write `data` as one archive entry whose size is not known in advance; yield the archive bytes as they come."""
    with archive.open(name, "w", force_zip64=True) as entry:
        for chunk in data:
            entry.write(chunk)
            yield from buffer.pending()
    yield from buffer.pending()


def file_chunks(path: Path) -> Iterator[bytes]:
    """The bytes of a finished scratch file, in chunks."""
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_SIZE):
            yield chunk


def safe_filename(name: str) -> str:
    """A file name without path separators or characters Windows refuses, like Central's sanitize-filename."""
    cleaned = _UNSAFE_FILENAME.sub("", name).rstrip(". ")
    return cleaned if cleaned not in ("", ".", "..") else "_"
