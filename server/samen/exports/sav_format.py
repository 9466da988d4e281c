"""The SPSS system file format (.sav), written as a stream: a dictionary, then cases.

Pure encoding, no I/O: `system_file_chunks(variables, cases, case_count, ...)`
yields the bytes of one file, reading `cases` once, so a caller that knows
its dictionary and case count up front can stream any number of cases in
flat memory. What it writes, following PSPP's "System File Format" chapter
(little-endian, layout code 2, bias 100):

- the header, the variable records (one per 8 bytes of a case), value
  labels of numeric and short string variables (records 3 and 4);
- extension records in ascending subtype: machine integer info declaring
  UTF-8 (3), floating-point info (4), display parameters (11), long variable
  names (13), very long strings (14), the encoding (20), long string value
  labels (21); then the terminator (999);
- cases in bytecode compression, as SPSS saves by default: blocks of eight
  one-byte codes, each block followed by the 8-byte values its code 253
  entries stand for.

Strings are UTF-8, at most 32,767 bytes. Variable records are capped at 255
bytes, so a longer ("very long") string is stored as segments of 255 bytes
(each taking 256 bytes of the case), and record 14 tells readers to join them.
"""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from samen.exports.output import CHUNK_SIZE

MAX_NAME_BYTES = 64
MAX_SHORT_NAME_BYTES = 8
MAX_STRING_WIDTH = 32767
MAX_VARIABLE_LABEL_BYTES = 256
MAX_VALUE_LABEL_BYTES = 120
MAX_FILE_LABEL_BYTES = 64
# SPSS keywords that cannot name a variable.
RESERVED_NAMES = frozenset({"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"})

SYSMIS = -sys.float_info.max
HIGHEST = sys.float_info.max
LOWEST = math.nextafter(-sys.float_info.max, 0.0)  # the largest negative number that is not SYSMIS

Measure = Literal["nominal", "ordinal", "scale"]
Case = Sequence[float | int | str | None]

_PRODUCT = b"@(#) SPSS DATA FILE - SAMEN Forms"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SEGMENT_WIDTH = 255  # the widest variable record; also the data bytes each segment of a very long string holds
_SEGMENT_STEP = 252  # a very long string of width w has (w + 251) // 252 segments
_FORMAT_A, _FORMAT_F = 1, 5
_MEASURES = {"nominal": 1, "ordinal": 2, "scale": 3}
_ALIGN_LEFT, _ALIGN_RIGHT = 0, 1
_MAX_DISPLAY_WIDTH = 40
_UTF8_CODE_PAGE = 65001
# Compression codes. 1..251 stand for the integers code - bias.
_BIAS = 100
_FIRST_CODED, _LAST_CODED = 1 - _BIAS, 251 - _BIAS
_RAW, _SPACES, _SYSMIS = 253, 254, 255
_RAW_CODE, _SPACES_CODE = bytes([_RAW]), bytes([_SPACES])
_DOUBLE = struct.Struct("<d")
_INT32 = struct.Struct("<i")
_HEADER = struct.Struct("<4s60s5id9s8s64s3s")
_VARIABLE = struct.Struct("<6i8s")
_EXTENSION = struct.Struct("<4i")


class SystemFileError(ValueError):
    """A dictionary the system file format cannot hold: the caller's mistake, never the data's."""


@dataclass(frozen=True)
class Variable:
    """One variable: numeric when `width` is 0, else a string of at most `width` UTF-8 bytes.

    `format_width` and `decimals` make a numeric variable's print format
    F<format_width>.<decimals>; a string's is always A<width>. Labels longer
    than the format allows are shortened, never cutting a character.
    Value labels are keyed by numbers for a numeric variable, by strings of
    at most `width` bytes for a string.
    """

    name: str
    width: int = 0
    label: str = ""
    format_width: int = 8
    decimals: int = 2
    measure: Measure = "nominal"
    value_labels: Mapping[float, str] | Mapping[str, str] = field(default_factory=dict)

    @property
    def numeric(self) -> bool:
        return self.width == 0


def system_file_chunks(
    variables: Sequence[Variable],
    cases: Iterable[Case],
    case_count: int,
    *,
    file_label: str,
    created: datetime,
) -> Iterator[bytes]:
    """A whole .sav file as chunks of about a megabyte: the dictionary, then `case_count` cases.

    Each case holds one value per variable: a number or None (missing) for a
    numeric variable, a str or None (blank) for a string; a string longer
    than its variable is cut at a character boundary.
    """
    plans = _plans(variables)
    yield _dictionary(plans, case_count, file_label, created)
    compressor = _Compressor(plans)
    written = 0
    for case in cases:
        if len(case) != len(plans):
            raise SystemFileError(f"A case has {len(case)} values for {len(plans)} variables.")
        compressor.add(case)
        written += 1
        if len(compressor.output) >= CHUNK_SIZE:
            yield compressor.take()
    if written != case_count:
        raise SystemFileError(f"The header announced {case_count} cases but {written} were given.")
    compressor.finish()
    if compressor.output:
        yield compressor.take()


def _truncate_utf8(text: str, limit: int) -> bytes:
    """At most `limit` UTF-8 bytes of `text`, never cutting a character in half."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return data
    return data[:limit].decode("utf-8", errors="ignore").encode("utf-8")


@dataclass(frozen=True)
class _Segment:
    """One variable record's share of a variable: its width, its data bytes, its 8-byte units in a case."""

    short_name: str
    width: int
    start: int  # first byte of the value stored here
    stop: int
    units: int


@dataclass(frozen=True)
class _Plan:
    variable: Variable
    index: int  # 1-based dictionary index of the first variable record
    segments: tuple[_Segment, ...]


def _plans(variables: Sequence[Variable]) -> list[_Plan]:
    names: set[str] = set()
    short_names: set[str] = set()
    plans = []
    index = 1
    for variable in variables:
        _check(variable, names)
        segments = tuple(
            _Segment(_short_name(variable.name, short_names), width, start, stop, _units(width))
            for width, start, stop in _segment_widths(variable.width)
        )
        plans.append(_Plan(variable, index, segments))
        index += sum(segment.units for segment in segments)
    return plans


def _check(variable: Variable, names: set[str]) -> None:
    name = variable.name
    if not name.isascii() or not 0 < len(name) <= MAX_NAME_BYTES or not name[0].isalpha() or name.upper() in RESERVED_NAMES:
        raise SystemFileError(f"{name!r} cannot name an SPSS variable.")
    if name.upper() in names:
        raise SystemFileError(f"Two variables are named {name!r}, ignoring case.")
    names.add(name.upper())
    if not 0 <= variable.width <= MAX_STRING_WIDTH:
        raise SystemFileError(f"{name}: a string is 1 to {MAX_STRING_WIDTH} bytes wide, not {variable.width}.")
    if variable.numeric and not all(isinstance(value, (int, float)) for value in variable.value_labels):
        raise SystemFileError(f"{name}: a numeric variable's value labels are keyed by numbers.")
    if not variable.numeric and not all(
        isinstance(value, str) and len(value.encode("utf-8")) <= variable.width for value in variable.value_labels
    ):
        raise SystemFileError(f"{name}: a string's value labels are keyed by strings no wider than the variable.")


def _segment_widths(width: int) -> list[tuple[int, int, int]]:
    """(record width, first data byte, end of data) per variable record; one record unless a very long string."""
    if width <= _SEGMENT_WIDTH:
        return [(width, 0, width)]
    count = (width + _SEGMENT_STEP - 1) // _SEGMENT_STEP
    widths = [_SEGMENT_WIDTH] * (count - 1) + [width - _SEGMENT_STEP * (count - 1)]
    # Data fills each segment's 255 bytes before the next, so the last segments may hold less than their width.
    return [
        (segment_width, min(number * _SEGMENT_WIDTH, width), min((number + 1) * _SEGMENT_WIDTH, width))
        for number, segment_width in enumerate(widths)
    ]


def _units(width: int) -> int:
    """8-byte units of a case that a variable record of this width takes (a number takes one)."""
    return max(1, -(-width // 8))


def _short_name(name: str, taken: set[str]) -> str:
    """A unique name of at most 8 bytes (uppercase, as SPSS writes them) from the long name; digits resolve clashes."""
    base = name.upper()[:MAX_SHORT_NAME_BYTES].rstrip(".")
    candidate, counter = base, 1
    while candidate in taken or candidate in RESERVED_NAMES:
        counter += 1
        suffix = str(counter)
        candidate = base[: MAX_SHORT_NAME_BYTES - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def _dictionary(plans: list[_Plan], case_count: int, file_label: str, created: datetime) -> bytes:
    parts = [_header(plans, case_count, file_label, created)]
    parts += [_variable_records(plan) for plan in plans]
    parts += [_value_label_records(plan) for plan in plans if plan.variable.value_labels and _labelled_in_record_3(plan)]
    # Machine integer info: release 20.0.0 (whose features the file uses), machine -1 (unknown), IEEE 754 floats,
    # compression code 1 (always), little-endian, then the code page that makes every string UTF-8.
    parts.append(_extension(3, 4, struct.pack("<8i", 20, 0, 0, -1, 1, 1, 2, _UTF8_CODE_PAGE)))
    parts.append(_extension(4, 8, struct.pack("<3d", SYSMIS, HIGHEST, LOWEST)))
    parts.append(_extension(11, 4, b"".join(_display(plan) for plan in plans)))
    long_names = "\t".join(f"{plan.segments[0].short_name}={plan.variable.name}" for plan in plans)
    parts.append(_extension(13, 1, long_names.encode("ascii")))
    very_long = "".join(
        f"{plan.segments[0].short_name}={plan.variable.width:05d}\0\t" for plan in plans if len(plan.segments) > 1
    )
    if very_long:
        parts.append(_extension(14, 1, very_long.encode("ascii")))
    parts.append(_extension(20, 1, b"UTF-8"))
    parts += [_long_value_labels(plan) for plan in plans if plan.variable.value_labels and not _labelled_in_record_3(plan)]
    parts.append(struct.pack("<2i", 999, 0))
    return b"".join(parts)


def _header(plans: list[_Plan], case_count: int, file_label: str, created: datetime) -> bytes:
    case_units = sum(segment.units for plan in plans for segment in plan.segments)
    return _HEADER.pack(
        b"$FL2",
        _PRODUCT.ljust(60),
        2,  # layout code: little-endian
        case_units,
        1,  # bytecode compression
        0,  # no weight variable
        case_count if case_count < 2**31 else -1,  # -1: unknown, for counts an int32 cannot hold
        float(_BIAS),
        f"{created.day:02d} {_MONTHS[created.month - 1]} {created.year % 100:02d}".encode("ascii"),
        created.strftime("%H:%M:%S").encode("ascii"),
        _truncate_utf8(file_label, MAX_FILE_LABEL_BYTES).ljust(MAX_FILE_LABEL_BYTES),
        b"\0\0\0",
    )


def _variable_records(plan: _Plan) -> bytes:
    variable = plan.variable
    label = _truncate_utf8(variable.label, MAX_VARIABLE_LABEL_BYTES)
    parts = []
    for number, segment in enumerate(plan.segments):
        labelled = bool(label) and number == 0
        print_format = _format(variable, segment.width)
        name = segment.short_name.encode("ascii").ljust(MAX_SHORT_NAME_BYTES)
        parts.append(_VARIABLE.pack(2, segment.width, labelled, 0, print_format, print_format, name))
        if labelled:
            parts.append(_INT32.pack(len(label)) + label.ljust(-(-len(label) // 4) * 4))
        # A string wider than 8 bytes takes one more record per further 8 bytes, of type -1.
        parts += [_VARIABLE.pack(2, -1, 0, 0, 0, 0, b" " * 8)] * (segment.units - 1)
    return b"".join(parts)


def _format(variable: Variable, segment_width: int) -> int:
    if variable.numeric:
        return _FORMAT_F << 16 | variable.format_width << 8 | variable.decimals
    return _FORMAT_A << 16 | segment_width << 8


def _labelled_in_record_3(plan: _Plan) -> bool:
    """Whether the value labels go in records 3 and 4 (numbers, strings of up to 8 bytes) rather than record 21."""
    return plan.variable.width <= 8


def _value_label_records(plan: _Plan) -> bytes:
    parts = [struct.pack("<2i", 3, len(plan.variable.value_labels))]
    for value, label in plan.variable.value_labels.items():
        key = _DOUBLE.pack(float(value)) if isinstance(value, (int, float)) else value.encode("utf-8").ljust(8)
        text = _truncate_utf8(label, MAX_VALUE_LABEL_BYTES)
        # The label's length byte and text together fill a multiple of 8 bytes.
        parts.append(key + bytes([len(text)]) + text.ljust(-(-(len(text) + 1) // 8) * 8 - 1))
    parts.append(struct.pack("<3i", 4, 1, plan.index))
    return b"".join(parts)


def _long_value_labels(plan: _Plan) -> bytes:
    """Record 21 for one variable: readers such as ReadStat take one variable per record."""
    variable = plan.variable
    name = variable.name.encode("ascii")
    parts = [_INT32.pack(len(name)), name, struct.pack("<2i", variable.width, len(variable.value_labels))]
    for value, label in variable.value_labels.items():
        text = _truncate_utf8(label, MAX_VALUE_LABEL_BYTES)
        key = str(value).encode("utf-8").ljust(variable.width)
        parts += [_INT32.pack(variable.width), key, _INT32.pack(len(text)), text]
    return _extension(21, 1, b"".join(parts))


def _display(plan: _Plan) -> bytes:
    """Measure, column width and alignment, repeated for every segment of a very long string."""
    variable = plan.variable
    if variable.numeric:
        entry = struct.pack("<3i", _MEASURES[variable.measure], min(variable.format_width, _MAX_DISPLAY_WIDTH), _ALIGN_RIGHT)
    else:
        entry = struct.pack("<3i", _MEASURES[variable.measure], min(variable.width, _MAX_DISPLAY_WIDTH), _ALIGN_LEFT)
    return entry * len(plan.segments)


def _extension(subtype: int, size: int, data: bytes) -> bytes:
    return _EXTENSION.pack(7, subtype, size, len(data) // size) + data


class _Compressor:
    """Cases in bytecode compression, appended to `output`.

    Codes 1..251 stand for the whole numbers -99..151, 254 for eight spaces,
    255 for SYSMIS, 253 for an 8-byte value that follows the block of codes.
    Blocks run across cases; the last one is padded with code 0. Codes and
    the 8-byte values wait in two buffers until a block is whole, so the
    work per case is a few operations per value, not per 8 bytes.
    """

    def __init__(self, plans: list[_Plan]) -> None:
        self._columns = [
            (plan.variable.numeric, plan.variable.width, [(part.start, part.stop, part.units) for part in plan.segments])
            for plan in plans
        ]
        self._codes = bytearray()
        self._values = bytearray()  # the 8-byte values of the pending codes 253, in order
        self.output = bytearray()

    def add(self, case: Case) -> None:
        codes, values = self._codes, self._values
        for (numeric, width, segments), value in zip(self._columns, case):
            if numeric:
                if value is None or value != value:  # NaN has no place in SPSS: it is missing too
                    codes.append(_SYSMIS)
                elif _FIRST_CODED <= value <= _LAST_CODED and float(value).is_integer():  # type: ignore[operator]
                    codes.append(int(value) + _BIAS)  # type: ignore[arg-type]
                else:
                    codes.append(_RAW)
                    values += _DOUBLE.pack(value)
                continue
            data = value.encode("utf-8") if value else b""  # type: ignore[union-attr]
            if len(data) > width:
                data = _truncate_utf8(value, width)  # type: ignore[arg-type]
            for start, stop, units in segments:
                stored = data[start:stop]
                filled = -(-len(stored) // 8)  # units that hold data; the rest of the segment is spaces
                codes += _RAW_CODE * filled + _SPACES_CODE * (units - filled)
                values += stored.ljust(filled * 8)
        self._emit_whole_blocks()

    def _emit_whole_blocks(self) -> None:
        codes, values, output = self._codes, self._values, self.output
        whole = len(codes) - len(codes) % 8
        used = 0
        for start in range(0, whole, 8):
            block = codes[start : start + 8]
            size = 8 * block.count(_RAW)
            output += block
            output += values[used : used + size]
            used += size
        del codes[:whole], values[:used]

    def take(self) -> bytes:
        chunk = bytes(self.output)
        self.output.clear()
        return chunk

    def finish(self) -> None:
        if self._codes:
            self._codes += bytes(8 - len(self._codes))
            self._emit_whole_blocks()
