"""pyodk, the real client, pointed at a live server through its own config and cache files (reusable fixtures).

Usage: `client = pyodk_client(live_server.url, tmp_path)`; `with client:` signs in
(POST /v1/sessions) or reuses the cached token (GET /v1/users/current).
"""

from __future__ import annotations

import json
from pathlib import Path

from pyodk.client import Client

# What tests/conftest.py's start_live_server gives the first administrator.
ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "correct horse battery staple"


def write_config(folder: Path, server_url: str, email: str, password: str, project_id: int | None = None) -> Path:
    """pyodk's TOML config; JSON string quoting is valid TOML for these values."""
    lines = ["[central]", f"base_url = {json.dumps(server_url)}", f"username = {json.dumps(email)}",
             f"password = {json.dumps(password)}"]
    if project_id is not None:
        lines.append(f"default_project_id = {project_id}")
    path = folder / "pyodk_config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def pyodk_client(server_url: str, folder: Path, *, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD,
                 project_id: int | None = None) -> Client:
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, server_url, email, password, project_id)
    return Client(config_path=config, cache_path=folder / "pyodk_cache.toml")


def create_project(client: Client, name: str) -> int:
    """pyodk has no call for this; scripts post it themselves, as Central's docs show."""
    response = client.post("projects", json={"name": name})
    response.raise_for_status()
    return response.json()["id"]
