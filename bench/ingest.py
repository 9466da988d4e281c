"""Ingest throughput: a live server, N plaintext submissions, 1 and 4 concurrent Collect-shaped clients.

    .venv/bin/python bench/ingest.py [--n 2000] [--workers 4] [--postgres URL]

Prints submissions/second and p50/p95 latency per database and client count.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

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


def collect_request(body: bytes) -> tuple[bytes, dict[str, str]]:
    """The multipart body and headers OkHttp sends for one instance: a fresh boundary, per-part lengths."""
    boundary = str(uuid.uuid4())
    payload = b"".join([
        f"--{boundary}\r\n".encode(),
        b'Content-Disposition: form-data; name="xml_submission_file"; filename="submission.xml"\r\n',
        f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n".encode(), body,
        f"\r\n--{boundary}--\r\n".encode(),
    ])
    return payload, {**COLLECT_HEADERS, "Content-Type": f"multipart/form-data; boundary={boundary}"}


def post_all(url: str, bodies: list[bytes], clients: int) -> tuple[float, list[float]]:
    """Each client keeps one connection alive, as Collect does; http.client keeps the client's own cost low."""
    target = urlsplit(url)
    path = f"{target.path}?deviceID=collect:bench"
    requests_ = [collect_request(body) for body in bodies]
    local = threading.local()

    def post(request: tuple[bytes, dict[str, str]]) -> float:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(target.hostname, target.port)
        payload, headers = request
        started = time.perf_counter()
        local.connection.request("POST", path, payload, headers)
        response = local.connection.getresponse()
        answer = response.read()
        if response.status != 201:
            raise RuntimeError(f"{response.status}: {answer[:200]!r}")
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(post, requests_))
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
