"""Seal scratch files that hold decrypted data under a key that exists only in memory.

An export that reads its rows twice (SPSS needs every column's width before
its first row) keeps them in a scratch file meanwhile. Each block of such a
file is sealed with AES-256-GCM under a random key made for that file alone
and held only by its `ScratchSealer`: once the process lets go of the object,
what is left on disk cannot be read, even where clean-up never ran (a killed
worker, a full disk, a power cut). Blocks are numbered into their nonces, so
a block read out of its place fails to open instead of returning wrong rows.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class ScratchDamagedError(Exception):
    """A sealed scratch block did not open: the file changed on disk, or was read out of order."""


class ScratchSealer:
    """Seals the blocks of one scratch file, numbered in the order written, and opens them by number."""

    def __init__(self) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._sealed = 0

    def seal(self, block: bytes) -> bytes:
        """The next block, sealed; its number is how many were sealed before it."""
        nonce = self._sealed.to_bytes(_NONCE_BYTES, "big")
        self._sealed += 1
        return self._aead.encrypt(nonce, block, None)

    def open(self, number: int, sealed: bytes) -> bytes:
        """Block `number` (0 for the first sealed) as it was written."""
        try:
            return self._aead.decrypt(number.to_bytes(_NONCE_BYTES, "big"), sealed, None)
        except InvalidTag:
            raise ScratchDamagedError(f"Scratch block {number} did not open: the file changed while the export ran.") from None

    def __repr__(self) -> str:  # the key is the secret here: never show it
        return f"ScratchSealer(blocks={self._sealed})"
