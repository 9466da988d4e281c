"""What every command needs: settings, the database, the blob store, and secret input."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from samen.blobs import BlobStore
from samen.config import Settings, settings_from_env
from samen.db import Database


@dataclass
class CliContext:
    settings: Settings
    database: Database
    blobs: BlobStore


def cli_context() -> CliContext:
    settings = settings_from_env()
    return CliContext(settings, Database(settings.sqlalchemy_url), BlobStore(settings.blob_dir))


def read_secret(prompt: str, *, confirm: bool = False) -> str:
    """From standard input when piped (scripts, CI), otherwise typed twice at a hidden prompt."""
    if not sys.stdin.isatty():
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise click.UsageError(f"{prompt}: nothing was given on standard input.")
        return value
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
