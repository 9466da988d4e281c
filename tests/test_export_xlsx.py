"""The XLSX export read back with openpyxl: sheets per repeat, names or labels, numbers as numbers."""

from __future__ import annotations

import io

import openpyxl
from test_export_forms import AR, TI, export_bytes, intake_schema, intake_submissions, meta

from samen.exports import ExportOptions
from samen.exports.xlsx import sheet_names
from samen.rows import RowOptions, submission_rows, table_layout
from samen.schema import parse_form_schema


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True)


def sheet_rows(book, name):
    return [list(row) for row in book[name].iter_rows(values_only=True)]


def test_one_sheet_per_table_with_centrals_columns_and_typed_values():
    layout = table_layout(intake_schema())

    book = workbook(export_bytes("xlsx", layout, intake_submissions(layout)))

    assert book.sheetnames == ["intake", "members", "visits"]
    header, first, second, locked = sheet_rows(book, "intake")
    assert header == [column.name for column in layout.tables[0].columns]
    row = dict(zip(header, first))
    assert (row["household-size"], row["location-Latitude"], row["AttachmentsPresent"]) == (3, 52.3676, 0)
    assert (row["name"], row["household-consent"], row["old_note"]) == ("Amanuel", "1", "ጽቡቕ\nsecond line")
    assert dict(zip(header, second))["household-income"] == 1250.5
    assert dict(zip(header, locked))["Status"] == "not decrypted: wrong key"
    assert sheet_rows(book, "visits")[1] == [
        "2024-04-02",
        52.0907,
        5.1214,
        3.5,
        4.8,
        "uuid:v1-0001/household/members[1]",
        "uuid:v1-0001/household/members[1]/visits[1]",
    ]


def test_labels_in_a_chosen_language_for_headers_and_choices():
    layout = table_layout(intake_schema(), RowOptions(split_select_multiples=True))

    book = workbook(export_bytes("xlsx", layout, intake_submissions(layout), ExportOptions(language=TI, labels=True)))

    header, first, *_ = sheet_rows(book, "intake")
    assert header[:5] == ["Submission date", "ስም", "ብዝሒ ስድራቤት", "ኣታዊ", "ፍቓድ"]
    assert header[header.index("meta-instanceID") + 1] == "Key"  # no label: the column name stays
    assert first[4] == "እወ"
    members_header, selam, *_ = sheet_rows(book, "members")
    assert members_header[2:6] == ["ድሌታት", "ድሌታት: መጽለሊ", "ድሌታት: ሕክምና", "ድሌታት: ሕጋዊ ሓገዝ"]
    assert selam[2:6] == ["መጽለሊ; ሕክምና", 1, 1, 0]

    arabic = workbook(export_bytes("xlsx", layout, intake_submissions(layout), ExportOptions(language=AR, labels=True)))
    assert sheet_rows(arabic, "intake")[2][4] == "لا"


def test_text_that_looks_like_a_formula_or_number_stays_text():
    layout = table_layout(intake_schema())
    xml = "<data><name>=HYPERLINK(\"http://x\")</name><household><size>many</size></household></data>".encode()

    book = workbook(export_bytes("xlsx", layout, [submission_rows(layout, xml, meta("uuid:f"))]))

    row = dict(zip(*sheet_rows(book, "intake")))
    assert row["name"] == '=HYPERLINK("http://x")'
    assert row["household-size"] == "many"  # not a number: kept as written rather than dropped


def test_sheet_names_are_valid_and_unique_ignoring_case():
    schema = parse_form_schema(
        b"""<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"><h:head><model>
        <instance><data id="a:very/long[form]id-that-exceeds-thirty-one"><R><x/></R><g><r><y/></r></g></data></instance>
        </model></h:head><h:body><repeat nodeset="/data/R"/><group ref="/data/g"><repeat nodeset="/data/g/r"/></group></h:body></h:html>"""
    )

    names = sheet_names(table_layout(schema))

    assert names == ["a_very_long_form_id-that-exceed", "R", "r~2"]
    assert all(len(name) <= 31 for name in names)
