"""Benchmark: decrypt N encrypted submissions on every core, against this machine's RSA-2048 floor.

Each submission costs two RSA-2048 private-key operations (the AES key and
the signature); everything else (envelope parsing, AES-CFB, MD5, the XML
check) should be small beside them. The floor is those two operations alone,
measured in the same run, with the same processes and chunks. The two are
run alternately --repeat times and the fastest of each is kept, because
shared machines are noisy and noise only ever makes a run slower.

    .venv/bin/python bench/decrypt.py [--n 10000] [--processes CORES] [--chunk 250] [--repeat 3]
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from encryptor import encrypt_submission  # noqa: E402  (test-suite encryptor, found via the path above)

from samen.crypto.decrypt import OAEP_PADDING, Decryptor, submission_decryptor  # noqa: E402
from samen.crypto.envelope import parse_envelope  # noqa: E402
from samen.crypto.keys import RsaPrivateKey, generate_private_key, load_private_key_pem, private_key_pem  # noqa: E402

Submission = tuple[bytes, dict[str, bytes]]

# Per worker process, set once by _start_worker: the bench's own throwaway key.
_worker_key: RsaPrivateKey | None = None
_worker_decrypt: Decryptor | None = None


def _start_worker(pem: bytes) -> None:
    global _worker_key, _worker_decrypt
    _worker_key = load_private_key_pem(pem)
    _worker_decrypt = submission_decryptor(_worker_key)


def _ready(_: int) -> int:
    return os.getpid()


def _decrypt_chunk(chunk: list[Submission]) -> int:
    """Full decryption, from envelope bytes on; returns how many came out "ok"."""
    assert _worker_decrypt is not None
    return sum(_worker_decrypt(parse_envelope(envelope), files).status == "ok" for envelope, files in chunk)


def _rsa_floor_chunk(chunk: list[tuple[bytes, bytes]]) -> int:
    """Only the two RSA-OAEP private-key operations of each submission."""
    assert _worker_key is not None
    for wrapped_key, signature in chunk:
        _worker_key.decrypt(wrapped_key, OAEP_PADDING)
        _worker_key.decrypt(signature, OAEP_PADDING)
    return len(chunk)


def make_submissions(private_key: RsaPrivateKey, count: int) -> list[Submission]:
    public_key = private_key.public_key()
    submissions = []
    for number in range(count):
        instance_id = f"uuid:bench-{number:08d}"
        xml = (
            f'<data id="intake" version="2024061201"><meta><instanceID>{instance_id}</instanceID></meta>'
            f"<city>Utrecht</city><age>{20 + number % 50}</age><story>{'Ik wil hulp. ' * 20}</story>"
            "<photo>photo.jpg</photo></data>"
        ).encode()
        photo = os.urandom(4096)
        submissions.append(encrypt_submission(public_key, "intake", "2024061201", instance_id, xml, [("photo.jpg", photo)]))
    return submissions


def rsa_ciphertexts(submission: Submission) -> tuple[bytes, bytes]:
    envelope = parse_envelope(submission[0])
    return base64.b64decode(envelope.base64_encrypted_key), base64.b64decode(envelope.signature_b64 or "")


def timed(pool: ProcessPoolExecutor, work: Callable[[list], int], items: list, chunk: int) -> tuple[float, int]:
    chunks = [items[start : start + chunk] for start in range(0, len(items), chunk)]
    started = time.perf_counter()
    done = sum(pool.map(work, chunks))
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of submissions (default 10000)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    parser.add_argument("--chunk", type=int, default=250, help="submissions per task sent to a worker")
    parser.add_argument("--repeat", type=int, default=3, help="alternate runs of each measurement; the fastest counts")
    args = parser.parse_args()

    private_key = generate_private_key()
    started = time.perf_counter()
    submissions = make_submissions(private_key, args.n)
    generated_in = time.perf_counter() - started
    floor_items = [rsa_ciphertexts(submission) for submission in submissions]

    with ProcessPoolExecutor(args.processes, initializer=_start_worker, initargs=(private_key_pem(private_key),)) as pool:
        list(pool.map(_ready, range(args.processes * 4)))  # start every worker before timing
        floor_runs, decrypt_runs = [], []
        for _ in range(args.repeat):
            floor_runs.append(timed(pool, _rsa_floor_chunk, floor_items, args.chunk)[0])
            seconds, ok = timed(pool, _decrypt_chunk, submissions, args.chunk)
            decrypt_runs.append(seconds)
    floor_seconds, decrypt_seconds = min(floor_runs), min(decrypt_runs)

    floor_rate, decrypt_rate = args.n / floor_seconds, args.n / decrypt_seconds
    spread = f"runs: floor {' / '.join(f'{t:.2f}' for t in floor_runs)} s, decryption {' / '.join(f'{t:.2f}' for t in decrypt_runs)} s"
    table = Table(
        title=f"Decrypting {args.n:,} submissions (one 4 KiB media file each) on {args.processes} processes, "
        f"best of {args.repeat}"
    )
    for column in ("Measurement", "Seconds", "Submissions/s", "µs per submission per process"):
        table.add_column(column, justify="right" if column != "Measurement" else "left")
    for label, seconds, rate in (
        ("RSA-2048 floor (2 private-key ops)", floor_seconds, floor_rate),
        ("Full decryption", decrypt_seconds, decrypt_rate),
    ):
        table.add_row(label, f"{seconds:.2f}", f"{rate:,.0f}", f"{seconds / args.n * args.processes * 1e6:,.0f}")
    table.caption = (
        f"full decryption takes {decrypt_seconds / floor_seconds:.2f}× the RSA floor (target ≤ 2×); "
        f"{ok:,}/{args.n:,} verified ok; generating them took {generated_in:.1f} s; {spread}"
    )
    Console().print(table)
    if ok != args.n:
        raise SystemExit(f"{args.n - ok} submissions did not decrypt as ok: the benchmark is not measuring success.")


if __name__ == "__main__":
    main()
