"""Rows kept in a sealed scratch file, for writers that must read them twice.

`RowSpill(path)` takes rows one at a time and reads them back in order, as
often as asked, in flat memory: rows are gathered into blocks of about a
megabyte, and each block goes to disk sealed (`samen.crypto.scratch`), since
rows are decrypted answers. On disk a block is its sealed length (4 bytes)
and the sealed bytes; inside, each row is its length and its `marshal` form.
marshal is the fastest round trip for lists of str, int and None, and it is
safe here because only blocks this process sealed ever reach `marshal.loads`.
"""

from __future__ import annotations

import marshal
import os
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from samen.crypto.scratch import ScratchDamagedError, ScratchSealer
from samen.rows import Value

BLOCK_BYTES = 1 << 20
_LENGTH = struct.Struct("<I")


class RowSpill:
    """One table's rows in a scratch file; close it (or leave the `with` block) when done."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._sealer = ScratchSealer()
        # O_EXCL: never write into a file someone else put there; 0600 like every export file.
        self._file: BinaryIO = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        self._pending = bytearray()
        self._blocks = 0
        self.row_count = 0

    def append(self, row: Sequence[Value]) -> None:
        data = marshal.dumps(row)
        self._pending += _LENGTH.pack(len(data))
        self._pending += data
        self.row_count += 1
        if len(self._pending) >= BLOCK_BYTES:
            self._write_block()

    def rows(self) -> Iterator[list[Value]]:
        """Every row appended so far, in order."""
        if self._pending:
            self._write_block()
        self._file.flush()
        with self._path.open("rb") as source:
            for number in range(self._blocks):
                (size,) = _LENGTH.unpack(_read_exactly(source, _LENGTH.size))
                block = memoryview(self._sealer.open(number, _read_exactly(source, size)))
                offset = 0
                while offset < len(block):
                    (size,) = _LENGTH.unpack_from(block, offset)
                    offset += _LENGTH.size
                    yield marshal.loads(block[offset : offset + size])
                    offset += size

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RowSpill:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    def _write_block(self) -> None:
        sealed = self._sealer.seal(bytes(self._pending))
        self._file.write(_LENGTH.pack(len(sealed)))
        self._file.write(sealed)
        self._pending.clear()
        self._blocks += 1


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise ScratchDamagedError("A scratch file ended early: it changed while the export ran.")
    return data
