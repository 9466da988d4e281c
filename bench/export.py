"""Benchmark: export N submissions of a 40-field form with one repeat, in every format; time and peak memory.

Each case runs in its own subprocess so that its peak resident memory
(getrusage ru_maxrss) is its own: "peak" is the whole process, "growth" is
the peak minus the process's size just before the export started (Python,
pyxform and the layout). Submissions are generated on the fly (two
repeat rows each, free text unique per submission), never held in a list,
so growth is what the export itself keeps. The "rows" case only parses and
tabulates, the floor under every writer. "encrypted" cases first encrypt each
submission the way Collect does (tests/encryptor.py) and then decrypt it with
samen.crypto: two RSA-2048 private-key operations per submission dominate. For
them the same process then times making the ciphertext alone and the RSA floor,
and the export's own time (without making the ciphertext) is compared to it.
Times are wall-clock and suffer on a shared machine; memory does not.

    .venv/bin/python bench/export.py [--sizes 10000,100000] [--formats rows,csv,xlsx,sav,jsonl]
                                     [--encrypted-sizes 10000] [--encrypted-formats csv]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

FORM_ID = "bench"
CHOICES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
WORDS = "shelter clinic lawyer interpreter appointment housing referral follow-up safe contact".split()
# 40 questions: (XLSForm type, count).
ROOT_QUESTIONS = [("text", 10), ("integer", 8), ("decimal", 6), ("select_one opts", 6), ("select_multiple opts", 4),
                  ("date", 3), ("geopoint", 2), ("image", 1)]  # fmt: skip
REPEAT_QUESTIONS = [("text", 1), ("integer", 1), ("date", 1), ("select_one opts", 1), ("geopoint", 1)]


def bench_xlsform() -> str:
    lines = ["| survey |", "| | type | name | label |"]
    lines += [f"| | {kind} | {_name(kind, i)} | {kind} {i} |" for kind, count in ROOT_QUESTIONS for i in range(count)]
    lines.append("| | begin_repeat | visits | Visits |")
    lines += [f"| | {kind} | v_{_name(kind, i)} | {kind} {i} |" for kind, count in REPEAT_QUESTIONS for i in range(count)]
    lines += ["| | end_repeat | | |", "| choices |", "| | list_name | name | label |"]
    lines += [f"| | opts | {choice} | {choice.title()} |" for choice in CHOICES]
    lines += ["| settings |", "| | form_id | version |", f"| | {FORM_ID} | 1 |"]
    return "\n".join(lines)


def _name(kind: str, index: int) -> str:
    return f"{kind.split()[0]}_{index}"


def _value(kind: str, number: int, rng: random.Random) -> str:
    if kind == "text":
        return f"{rng.choice(WORDS)} {number} {rng.choice(WORDS)}"
    if kind == "integer":
        return str(rng.randint(0, 90))
    if kind == "decimal":
        return f"{rng.uniform(0, 5000):.2f}"
    if kind == "select_one opts":
        return rng.choice(CHOICES)
    if kind == "select_multiple opts":
        return " ".join(rng.sample(CHOICES, rng.randint(0, 3)))
    if kind == "date":
        return (datetime(2024, 1, 1) + timedelta(days=rng.randint(0, 365))).date().isoformat()
    if kind == "geopoint":
        return f"{52 + rng.random():.6f} {4 + rng.random():.6f} 0 {rng.uniform(3, 20):.1f}"
    return f"{number}.jpg"


def submission_xml(number: int) -> bytes:
    rng = random.Random(number)
    parts = [f'<data id="{FORM_ID}" version="1">']
    for kind, count in ROOT_QUESTIONS:
        parts += [f"<{_name(kind, i)}>{_value(kind, number, rng)}</{_name(kind, i)}>" for i in range(count)]
    for _ in range(2):
        parts.append("<visits>")
        for kind, count in REPEAT_QUESTIONS:
            parts += [f"<v_{_name(kind, i)}>{_value(kind, number, rng)}</v_{_name(kind, i)}>" for i in range(count)]
        parts.append("</visits>")
    parts.append(f"<meta><instanceID>uuid:bench-{number}</instanceID></meta></data>")
    return "".join(parts).encode()


def run_case(format: str, size: int, encrypted: bool, out_dir: Path) -> dict[str, float]:
    """Inside the subprocess: export `size` submissions and measure."""
    from encryptor import encrypt_submission
    from test_export_forms import compile_xlsform

    from samen.crypto.decrypt import submission_decryptor
    from samen.crypto.envelope import parse_envelope
    from samen.crypto.keys import generate_private_key
    from samen.exports import WRITERS, write_export
    from samen.rows import SubmissionMeta, submission_rows, table_layout
    from samen.schema import parse_form_schema

    layout = table_layout(parse_form_schema(compile_xlsform(bench_xlsform())))
    key = generate_private_key()
    decrypt = submission_decryptor(key)
    received = datetime(2024, 6, 1, tzinfo=timezone.utc)

    def plaintexts() -> Iterator[tuple[int, bytes]]:
        for number in range(size):
            xml = submission_xml(number)
            if encrypted:
                envelope, files = encrypt_submission(key.public_key(), FORM_ID, "1", f"uuid:bench-{number}", xml, [])
                xml = decrypt(parse_envelope(envelope), files).xml
            yield number, xml

    rows = (
        submission_rows(layout, xml, SubmissionMeta(f"uuid:bench-{number}", received, submitter_id=1, form_version="1"))
        for number, xml in plaintexts()
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    if format == "rows":
        for _ in rows:
            pass
        output_size = 0
    else:
        target = write_export(format, out_dir / WRITERS[format].filename(layout), layout, rows)
        output_size = target.stat().st_size
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"seconds": seconds, "peak_mb": peak, "growth_mb": peak - before, "output_mb": output_size / 1e6}
    if encrypted:
        result.update(_encrypted_baselines(size, key, encrypt_submission))
    return result


def _encrypted_baselines(size: int, key, encrypt_submission) -> dict[str, float]:
    """Measured in the same process after the export: how long making the phones' ciphertext took (part of the
    export's time above, not of a real export), and the RSA floor — two private-key operations per submission."""
    from samen.crypto.decrypt import OAEP_PADDING

    started = time.perf_counter()
    for number in range(size):
        encrypt_submission(key.public_key(), FORM_ID, "1", f"uuid:bench-{number}", submission_xml(number), [])
    encrypting = time.perf_counter() - started
    wrapped = key.public_key().encrypt(bytes(32), OAEP_PADDING)
    started = time.perf_counter()
    for _ in range(size * 2):
        key.decrypt(wrapped, OAEP_PADDING)
    return {"encrypting_seconds": encrypting, "floor_seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--formats", default="rows,csv,xlsx,sav,jsonl")
    parser.add_argument("--encrypted-sizes", default="10000")
    parser.add_argument("--encrypted-formats", default="csv,xlsx,sav,jsonl")
    parser.add_argument("--case", nargs=3, metavar=("FORMAT", "SIZE", "MODE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.case:
        format, size, mode = arguments.case
        with tempfile.TemporaryDirectory(prefix="samen-bench-") as out_dir:
            print(json.dumps(run_case(format, int(size), mode == "encrypted", Path(out_dir))))
        return

    cases = [(f, int(n), "plaintext") for n in arguments.sizes.split(",") for f in arguments.formats.split(",")]
    if arguments.encrypted_sizes:
        cases += [
            (f, int(n), "encrypted") for n in arguments.encrypted_sizes.split(",") for f in arguments.encrypted_formats.split(",")
        ]
    table = Table(title="Export: 40-field form, one repeat (2 rows per submission)")
    for heading in ("format", "submissions", "data", "seconds", "submissions/s", "peak RSS MB", "growth MB", "output MB"):
        table.add_column(heading, justify="left" if heading in ("format", "data") else "right")
    console = Console(width=140)
    ratios = []
    for format, size, mode in cases:
        console.print(f"running {format} {size} {mode}…", style="dim")
        completed = subprocess.run(
            [sys.executable, __file__, "--case", format, str(size), mode], capture_output=True, text=True, check=True
        )
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        table.add_row(
            format, f"{size:,}", mode, f"{result['seconds']:.1f}", f"{size / result['seconds']:,.0f}",
            f"{result['peak_mb']:.0f}", f"{result['growth_mb']:.0f}", f"{result['output_mb']:.1f}",
        )  # fmt: skip
        if "floor_seconds" in result:
            export_only = result["seconds"] - result["encrypting_seconds"]
            ratios.append(f"encrypted {format} {size:,}: {export_only:.1f} s without making the ciphertext "
                          f"({result['encrypting_seconds']:.1f} s); RSA floor in the same process "
                          f"{result['floor_seconds']:.1f} s; {export_only / result['floor_seconds']:.2f}× the floor "
                          "(target ≤ 2×)")
    console.print(table)
    for line in ratios:
        console.print(line)


if __name__ == "__main__":
    main()
