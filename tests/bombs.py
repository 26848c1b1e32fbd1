"""Hostile workbooks and CSV files, built in the test that uses them (never committed): a minimal XLSX written
part by part, so that a part can be made as large or as strange as an attacker would make it.

`bench/uploads.py` measures the portal's reader on the same files."""

import io
import zipfile
from collections.abc import Iterable

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="{shared}"/></Relationships>'
)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>ФИО</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>email</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>external_id</t></is></c>'
    '<c r="D1" t="inlineStr"><is><t>completed_at</t></is></c></row>'
)
MB = 1024 * 1024


def workbook(
    rows: Iterable[str],
    shared: Iterable[str] = (),
    *,
    shared_path: str = "sharedStrings.xml",
    styles: Iterable[str] | None = None,
) -> bytes:
    """An XLSX whose first sheet holds `rows` (each a chunk of <row> XML) and whose shared strings are `shared`
    (chunks of <si> XML), each part written as it is generated, deflated at the best level."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.replace("/xl/sharedStrings.xml", "/xl/" + shared_path))
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(shared=shared_path))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>'.encode())
            for chunk in rows:
                part.write(chunk.encode())
            part.write(b"</sheetData></worksheet>")
        with archive.open("xl/" + shared_path, "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS}>'.encode())
            for chunk in shared:
                part.write(chunk.encode())
            part.write(b"</sst>")
        if styles is not None:  # openpyxl reads xl/styles.xml by its name, whatever the manifest says
            with archive.open("xl/styles.xml", "w", force_zip64=True) as part:
                part.write(f'<?xml version="1.0" encoding="UTF-8"?><styleSheet {_NS}>'.encode())
                for chunk in styles:
                    part.write(chunk.encode())
                part.write(b"</styleSheet>")
    return buffer.getvalue()


def sheet_bomb(megabytes: int = 40) -> bytes:
    """Tens of MB of the same row (rows without numbers follow each other), packed to well under a MB."""
    row = (
        '<row><c t="inlineStr"><is><t>Иванов Иван Иванович</t></is></c>'
        '<c t="inlineStr"><is><t>ivanov@example.org</t></is></c></row>'
    )
    count = megabytes * MB // len(row.encode())
    return workbook([HEADER_ROW, *(row * 1000 for _ in range(count // 1000))])


def shared_strings_bomb(megabytes: int = 40) -> bytes:
    """Millions of tiny shared strings: openpyxl reads them all before the first row, even in read-only mode."""
    item = "<si><t>x</t></si>"
    count = megabytes * MB // len(item)
    return workbook([HEADER_ROW], (item * 1000 for _ in range(count // 1000)))


def hidden_shared_strings_bomb(megabytes: int = 12) -> bytes:
    """The same, with the shared strings stored under a worksheet's name: the manifest decides what a part is."""
    item = "<si><t>x</t></si>"
    count = megabytes * MB // len(item)
    return workbook([HEADER_ROW], (item * 1000 for _ in range(count // 1000)), shared_path="worksheets/sheet2.xml")


def styles_bomb(megabytes: int = 40) -> bytes:
    """Hundreds of thousands of cell formats: openpyxl builds an object for each before the first row."""
    item = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    count = megabytes * MB // len(item)
    return workbook(
        [HEADER_ROW],
        styles=[f'<cellXfs count="{count}">', *(item * 1000 for _ in range(count // 1000)), "</cellXfs>"],
    )


def far_rows(last_row: int = 1_048_576) -> bytes:
    """A header and one cell on the sheet's last row: read-only mode yields every empty row in between."""
    return workbook([HEADER_ROW, f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>x</t></is></c></row>'])


def wide_row(columns: int = 16_384) -> bytes:
    """A header and a row with a value in each of `columns` columns."""
    cells = "".join(f'<c t="inlineStr"><is><t>{index}</t></is></c>' for index in range(columns))
    return workbook([HEADER_ROW, f'<row r="2">{cells}</row>'])


def long_cell(characters: int = 20_000) -> bytes:
    """A header and a row whose full name is `characters` long."""
    return workbook([HEADER_ROW, f'<row r="2"><c r="A2" t="inlineStr"><is><t>{"я" * characters}</t></is></c></row>'])


def csv_with_nul() -> bytes:
    return "ФИО;email\nИванов Иван\x00;ivanov@example.org\n".encode()


def oversized_csv(megabytes: int = 11) -> bytes:
    row = "Иванов Иван Иванович;ivanov@example.org\n".encode()
    return "ФИО;email\n".encode() + row * (megabytes * MB // len(row) + 1)


def far_columns(rows: int = 2_000) -> bytes:
    """Rows whose only cell sits in the sheet's last column (XFD): read-only mode pads each to 16,384 cells."""
    body = "".join(f'<row r="{n}"><c r="XFD{n}" t="inlineStr"><is><t>x</t></is></c></row>' for n in range(2, rows + 2))
    return workbook([HEADER_ROW, body])
