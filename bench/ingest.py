"""Ingest throughput: a live server, N plaintext submissions, 1 and 4 concurrent Collect-shaped clients.

    .venv/bin/python bench/ingest.py [--n 2000] [--workers 4] [--postgres URL]

Prints submissions/second, p50/p95 latency and the CPU time the server's
processes (and PostgreSQL's) spent per submission, per database and client
count. The "floor" row is bench/floor_app.py under the same gunicorn: the
upload parsed and answered, no database; the client shares the machine's
cores with the server, as it would on any single test machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
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


def collect_request(target, body: bytes) -> bytes:
    """The bytes OkHttp writes for one instance: Collect's headers, then OkHttp's own, a fresh boundary,
    per-part lengths."""
    boundary = str(uuid.uuid4())
    payload = b"".join([
        f"--{boundary}\r\n".encode(),
        b'Content-Disposition: form-data; name="xml_submission_file"; filename="submission.xml"\r\n',
        f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n".encode(), body,
        f"\r\n--{boundary}--\r\n".encode(),
    ])
    headers = {**COLLECT_HEADERS, "Content-Type": f"multipart/form-data; boundary={boundary}",
               "Content-Length": str(len(payload)), "Host": target.netloc, "Connection": "Keep-Alive",
               "Accept-Encoding": "gzip"}
    head = f"POST {target.path}?deviceID=collect:bench HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + payload


class CollectConnection:
    """One phone's keep-alive connection, reading back only the status line, headers and body.

    A general client (http.client parses every response header with the email
    package) spent 0.3 to 0.4 ms of the two shared cores per request, about a
    third of what the server itself needs without a database; this one spends
    about 0.1 ms, so the table measures the server more than its client.
    """

    def __init__(self, host: str, port: int) -> None:
        self.address, self.socket, self.unread = (host, port), None, b""

    def post(self, request: bytes) -> tuple[int, bytes]:
        if self.socket is None:
            self.socket = socket.create_connection(self.address)
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as OkHttp does
            self.unread = b""
        self.socket.sendall(request)
        head, body = self._read_until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        if "content-length" not in fields:
            raise RuntimeError(f"a response without Content-Length: {lines[0]}")
        length = int(fields["content-length"])
        while len(body) < length:
            body += self._receive()
        self.unread = body[length:]
        if fields.get("connection", "").lower() == "close":
            self.socket.close()
            self.socket = None
        return int(lines[0].split()[1]), body[:length]

    def _receive(self) -> bytes:
        chunk = self.socket.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection mid-response")
        return chunk

    def _read_until(self, marker: bytes) -> tuple[bytes, bytes]:
        data = self.unread
        while marker not in data:
            data += self._receive()
        head, _, rest = data.partition(marker)
        return head, rest


def post_all(url: str, bodies: list[bytes], clients: int) -> tuple[float, list[float]]:
    """Each client keeps one connection alive, as Collect does."""
    target = urlsplit(url)
    requests_ = [collect_request(target, body) for body in bodies]
    local = threading.local()

    def post(request: bytes) -> float:
        if not hasattr(local, "connection"):
            local.connection = CollectConnection(target.hostname, target.port)
        started = time.perf_counter()
        status, answer = local.connection.post(request)
        if status != 201:
            raise RuntimeError(f"{status}: {answer[:200]!r}")
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


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and all their descendants, from /proc (Linux)."""

    def ticks(pid: int) -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return 0  # ended meanwhile
        return int(fields[11]) + int(fields[12]) + sum(ticks(int(child)) for child in children)

    return sum(ticks(pid) for pid in pids) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    return [int(path.parent.name) for path in Path("/proc").glob("[0-9]*/comm")
            if path.read_text().strip() in ("postgres", "postmaster")]


def measure(label: str, url: str, server_pid: int, n: int, rows: list) -> None:
    post_all(url, [submission(i) for i in range(50)], 4)  # warm up every worker
    for clients in (1, 4):
        bodies = [submission(i) for i in range(n)]
        server_cpu, database_cpu = cpu_seconds([server_pid]), cpu_seconds(postgres_pids())
        seconds, latencies = post_all(url, bodies, clients)
        server_cpu = cpu_seconds([server_pid]) - server_cpu
        database_cpu = cpu_seconds(postgres_pids()) - database_cpu if label == "postgresql" else None
        quantiles = statistics.quantiles(latencies, n=100)
        rows.append((label, clients, n, seconds, n / seconds, quantiles[49] * 1000, quantiles[94] * 1000,
                     server_cpu / n * 1000, None if database_cpu is None else database_cpu / n * 1000))


def floor_server(workers: int) -> tuple[subprocess.Popen, str]:
    from conftest import _free_port
    from samen.cli.core import gunicorn_argv

    port = _free_port()
    argv = gunicorn_argv("127.0.0.1", port, workers, 4, app="floor_app:app")
    process = subprocess.Popen([*argv[:-1], "--chdir", str(Path(__file__).parent), argv[-1]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/submission"
    for _ in range(100):
        probe = http.client.HTTPConnection("127.0.0.1", port)
        try:
            probe.request("GET", "/")
            return process, url
        except OSError:
            time.sleep(0.1)
        finally:
            probe.close()
    raise RuntimeError("the floor server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL server to create a scratch database on ('' to skip)")
    args = parser.parse_args()

    rows: list = []
    process, url = floor_server(args.workers)
    try:
        measure("floor", url, process.pid, args.n, rows)
    finally:
        process.terminate()
        process.wait(timeout=10)
    for database in ("sqlite", "postgresql") if args.postgres else ("sqlite",):
        import conftest

        conftest.POSTGRES_URL = args.postgres
        db_url = _postgres_database() if database == "postgresql" else None
        server = start_live_server(Path(tempfile.mkdtemp()), db_url, workers=args.workers)
        try:
            measure(database, prepare(server), server.process.pid, args.n, rows)
        finally:
            server.process.terminate()
            server.process.wait(timeout=10)
            if db_url:
                _drop_postgres_database(db_url)

    print(f"\ningest bench: {args.n} plaintext submissions of ~1.3 KB, gunicorn --workers {args.workers} --threads 4")
    print(f"{'server':<11}{'clients':>8}{'n':>7}{'seconds':>9}{'subs/s':>9}{'p50 ms':>8}{'p95 ms':>8}"
          f"{'server CPU ms':>15}{'PG CPU ms':>11}")
    for label, clients, n, seconds, rate, p50, p95, server_ms, database_ms in rows:
        database_column = f"{database_ms:>11.2f}" if database_ms is not None else f"{'-':>11}"
        print(f"{label:<11}{clients:>8}{n:>7}{seconds:>9.2f}{rate:>9.0f}{p50:>8.1f}{p95:>8.1f}"
              f"{server_ms:>15.2f}{database_column}")


if __name__ == "__main__":
    main()
