"""Ingest throughput: a live server, N plaintext submissions, 1 and 4 concurrent Collect-shaped clients.

    .venv/bin/python bench/ingest.py [--n 2000] [--workers 4] [--postgres URL]

Prints submissions/second and p50/p95 latency per database and client count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import _drop_postgres_database, _postgres_database, start_live_server  # noqa: E402
from helpers import COLLECT_HEADERS, xform  # noqa: E402

FORM_MD = """
| survey   |         |       |       |
|          | type    | name  | label |
|          | text    | city  | City  |
|          | integer | age   | Age   |
|          | text    | notes | Notes |
| settings |         |       |       |
|          | form_id | version |     |
|          | bench   | 1     |       |
"""


def submission(index: int) -> bytes:
    """About 1.3 KB, like an intake without media."""
    notes = ("Outreach session at the community centre, follow-up agreed. " * 20)[:1100]
    return (f'<?xml version="1.0" encoding="UTF-8"?><data id="bench" version="1"><city>Rotterdam</city>'
            f"<age>{20 + index % 50}</age><notes>{notes}</notes><meta><instanceID>uuid:{uuid.uuid4()}"
            "</instanceID></meta></data>").encode()


def post_all(url: str, bodies: list[bytes], clients: int) -> tuple[float, list[float]]:
    sessions: dict[int, requests.Session] = {}

    def post(body: bytes) -> float:
        session = sessions.setdefault(threading.get_ident(), requests.Session())  # Collect keeps connections alive
        started = time.perf_counter()
        response = session.post(url, params={"deviceID": "collect:bench"}, headers=COLLECT_HEADERS,
                                files=[("xml_submission_file", ("submission.xml", body, "text/xml"))])
        if response.status_code != 201:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(post, bodies))
    return time.perf_counter() - started, latencies


def prepare(server) -> str:
    folder = Path(tempfile.mkdtemp())
    (folder / "bench.xml").write_bytes(xform(FORM_MD))
    project_id = server.cli("project", "create", "bench").stdout.strip()
    server.cli("form", "publish", "--project", project_id, str(folder / "bench.xml"))
    created = server.cli("app-user", "create", "--project", project_id, "--form", "bench", "bench phone")
    base = next(line.split(": ", 1)[1] for line in created.stdout.splitlines() if line.startswith("Collect server URL"))
    return base + "/submission"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL server to create a scratch database on ('' to skip)")
    args = parser.parse_args()

    rows = []
    for database in ("sqlite", "postgresql") if args.postgres else ("sqlite",):
        import conftest

        conftest.POSTGRES_URL = args.postgres
        db_url = _postgres_database() if database == "postgresql" else None
        server = start_live_server(Path(tempfile.mkdtemp()), db_url, workers=args.workers)
        try:
            url = prepare(server)
            post_all(url, [submission(i) for i in range(50)], 1)  # warm up every worker
            for clients in (1, 4):
                seconds, latencies = post_all(url, [submission(i) for i in range(args.n)], clients)
                quantiles = statistics.quantiles(latencies, n=100)
                rows.append((database, clients, args.n, seconds, args.n / seconds, quantiles[49] * 1000, quantiles[94] * 1000))
        finally:
            server.process.terminate()
            server.process.wait(timeout=10)
            if db_url:
                _drop_postgres_database(db_url)

    print(f"\ningest bench: {args.n} plaintext submissions of ~1.3 KB, gunicorn --workers {args.workers}")
    print(f"{'database':<11}{'clients':>8}{'n':>7}{'seconds':>9}{'subs/s':>9}{'p50 ms':>8}{'p95 ms':>8}")
    for database, clients, n, seconds, rate, p50, p95 in rows:
        print(f"{database:<11}{clients:>8}{n:>7}{seconds:>9.2f}{rate:>9.0f}{p50:>8.1f}{p95:>8.1f}")


if __name__ == "__main__":
    main()
