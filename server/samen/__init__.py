"""SAMEN Forms: an ODK-compatible, end-to-end-encrypted intake and survey backend."""

__version__ = "0.1.0"
