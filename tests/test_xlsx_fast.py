"""The fast XLSX reader (loaders.xlsx_fast) against the calamine path it
mirrors: on random sheets written by openpyxl (inline strings, and the
same moved to a shared-strings table as Excel and WPS save them) and on
raw sheet XML written here in the shapes other writers use (rich text,
phonetic runs, entities and character references, ``_x00HH_`` escapes,
cells without ``r``, custom number formats, the 1904 epoch), the frames
must be equal, cell for cell, missing cells included. Where the fast
reader declines a workbook, ``read_xlsx`` must still give what the
calamine path gives."""

import datetime
import os
import re
import zipfile

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loaders.xlsx as X
from loaders.xlsx_fast import Irregular, read_first_sheet
from loaders.xlsx_numbers import DATE, DURATION, PLAIN, format_kind

pytest.importorskip("python_calamine")
openpyxl = pytest.importorskip("openpyxl")

#: XLSX_EXAMPLES=2000 for a longer search (each example writes and reads a workbook).
SETTINGS = settings(max_examples=int(os.environ.get("XLSX_EXAMPLES", 60)), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# ------------------------------------------------------------------ helpers


def outcome(read, path):
    """A reader's frame, None when it declines the sheet, or its error."""
    try:
        return read(path)
    except X._Irregular:
        return None
    except Exception as exc:  # the calamine path fails on some workbooks
        return exc


def read_both(path):
    """``read_xlsx`` now, and as it was (calamine, then pandas): frame or error."""
    now = outcome(X.read_xlsx, path)
    engines = X.XLSX_ENGINES
    try:
        X.XLSX_ENGINES = ("calamine", "openpyxl")
        return now, outcome(X.read_xlsx, path)
    finally:
        X.XLSX_ENGINES = engines


def check_same(path, fast_may_decline=False):
    fast, slow = outcome(X._fast_frame, path), outcome(X._calamine_frame, path)
    assert not isinstance(fast, Exception), fast
    if fast is not None:
        assert isinstance(slow, pd.DataFrame), "the fast reader read a sheet the calamine path does not"
        pd.testing.assert_frame_equal(fast, slow)
    else:
        assert fast_may_decline or not isinstance(slow, pd.DataFrame), "the fast reader declined a regular sheet"
    now, before = read_both(path)
    if isinstance(before, Exception):
        assert type(now) is type(before) and str(now) == str(before)
    else:
        pd.testing.assert_frame_equal(now, before)
    return fast


def to_shared_strings(path):
    """Move the inline strings of an openpyxl workbook to a shared-strings
    table (as Excel and WPS save text)."""
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    table = {}

    def shared(m):
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (m.group(1), m.group(2), table.setdefault(m.group(3), len(table)))

    cell = re.compile(rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is>(.*?)</is></c>', re.S)
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = cell.sub(shared, parts[sheet])
    parts["xl/sharedStrings.xml"] = SST % (len(table), b"".join(b"<si>%s</si>" % t for t in table))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", SST_REL)
    write_zip(path, parts)


def write_zip(path, parts):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)


NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SST = b'<?xml version="1.0" encoding="UTF-8"?>\n<sst ' + NS + b' uniqueCount="%d">%s</sst>'
SST_REL = (b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
           b'sharedStrings" Target="sharedStrings.xml"/></Relationships>')  # fmt: skip

# ------------------------------------------------------------------ openpyxl sheets

TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(list("ab 中文名&<>\"'_x0D\t\n;#NA")),
                       st.characters(blacklist_categories=("Cs", "Cc"))),  # fmt: skip
    max_size=8,
)
NA_MARKERS = st.sampled_from(["", " ", "NA", "N/A", "null", "#N/A", "nan", "None", "  x  "])
VALUES = st.one_of(
    st.none(),
    TEXT,
    NA_MARKERS,
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.dates(datetime.date(1900, 3, 1), datetime.date(9999, 12, 31)),
    st.datetimes(datetime.datetime(1900, 3, 1), datetime.datetime(9999, 12, 31)),
    st.times(),
)
HEADERS = st.lists(st.text(alphabet="abc名 ", min_size=1, max_size=4).filter(str.strip), min_size=1, max_size=5,
                   unique_by=str.strip)  # fmt: skip


@st.composite
def sheets(draw):
    header = draw(HEADERS)
    if draw(st.integers(0, 9)) == 0:
        header[-1] = draw(st.sampled_from([" ", header[0] + " ", 7]))  # blank, repeated, not text: left to pandas
    n_rows = draw(st.integers(0, 6) if draw(st.booleans()) else st.integers(1, 2))
    rows = [[draw(VALUES) for _ in header] for _ in range(n_rows)]
    ragged = draw(st.booleans())  # rows ending early: empty cells at row ends
    return header, [r[: draw(st.integers(1, len(r)))] if ragged else r for r in rows]


def write_openpyxl(path, header, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(row)
    book.save(path)


@SETTINGS
@given(sheet=sheets(), shared=st.booleans())
def test_openpyxl_sheets_read_as_calamine_reads_them(tmp_path, sheet, shared):
    path = str(tmp_path / "t.xlsx")
    write_openpyxl(path, *sheet)
    if shared:
        to_shared_strings(path)
    texts = [v for row in [sheet[0], *sheet[1]] for v in row if isinstance(v, str)]
    # declined: raw carriage returns (XML turns them into line feeds), formulas (openpyxl reads "=…" so)
    check_same(path, fast_may_decline=any("\r" in v or v.startswith("=") for v in texts))


# ------------------------------------------------------------------ raw sheet XML

FORMATS = ["General", "yyyy-mm-dd", "YYYY/M/D;@", "h:mm:ss", "[h]:mm:ss", "[mm]:ss", "0.00", '0.0" m"',
           "#,##0*y", "0_ ;[Red]\\-0\\ ", "hh:mm AM/PM", "[$-404]e/m/d", '"Y: "0.00', "d-mmm", "[>=100][Magenta].00",
           "mm:ss.0", "@"]  # fmt: skip
BUILTIN = ["0", "1", "2", "14", "18", "20", "22", "45", "46", "47", "49"]
NUMBERS = st.one_of(
    st.integers(-100, 3_000_000).map(str),
    st.floats(-1e6, 3e6, allow_nan=False).map(repr),
    st.sampled_from(["0", "0.5", "59", "60", "61", "1e-9", "0.99999999999", "-0.5", "1E+3", "43862.00001157407",
                     "2958465.99999999", "3000000", "-0", ".5", "5.", "1e400"]),  # fmt: skip
)
RAW_TEXT = st.text(alphabet=st.sampled_from(list("ab 中&<>\"'\t\n_x0D5F+") + ["\x01", "\u00e9", "\U0001f600"]),
                   max_size=10)  # fmt: skip


def escape(text, draw):
    """XML text for ``text``: entities, or character references, and
    control characters as Excel's ``_x00HH_``."""
    out = []
    for ch in text:
        if ch in "&<>\"'" and draw(st.booleans()):
            out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}[ch])
        elif ch in "&<":
            out.append(f"&#{ord(ch)};" if draw(st.booleans()) else f"&#x{ord(ch):x};")
        elif ch == "\x01":
            out.append("_x0001_")
        elif ord(ch) > 127 and draw(st.booleans()):
            out.append(f"&#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def string_item(draw):
    """The content of an ``<si>`` or ``<is>``: plain, preserved or
    trimmed text, or rich-text runs with a phonetic run."""
    texts = draw(st.lists(RAW_TEXT, min_size=1, max_size=3))
    t = []
    for text in texts:
        space = ' xml:space="preserve"' if draw(st.booleans()) else ""
        t.append(f"<t{space}>{escape(text, draw)}</t>" if text or draw(st.booleans()) else "<t/>")
    if len(t) == 1 and draw(st.booleans()):
        return t[0]
    runs = "".join(f"<r><rPr><b/><sz val=\"11\"/></rPr>{x}</r>" for x in t)
    return runs + ('<rPh sb="0" eb="1"><t>ピン</t></rPh><phoneticPr fontId="1"/>' if draw(st.booleans()) else "")


@st.composite
def raw_books(draw):
    n_cols = draw(st.integers(1, 4))
    formats = draw(st.lists(st.one_of(st.sampled_from(FORMATS), st.sampled_from(BUILTIN).map(int)), max_size=4))
    shared, cells = [], []
    for r in range(draw(st.integers(2, 6))):
        row = []
        for c in range(n_cols):
            kind = "header" if r == 0 else draw(st.sampled_from(["none", "s", "is", "n", "n", "b", "str", "empty"]))
            if kind == "header":
                shared.append(f"<t>h{c}</t>")
                row.append(f'<c t="s"><v>{len(shared) - 1}</v></c>')
            elif kind == "s":
                shared.append(string_item(draw))
                row.append(f'<c t="s"><v>{len(shared) - 1}</v></c>')
            elif kind == "is":
                row.append(f'<c t="inlineStr"><is>{string_item(draw)}</is></c>')
            elif kind == "n":
                style = draw(st.integers(0, len(formats)))
                typ = draw(st.sampled_from(["", ' t="n"']))
                row.append(f'<c s="{style}"{typ}><v>{draw(NUMBERS)}</v></c>')
            elif kind == "b":
                row.append(f'<c t="b"><v>{draw(st.sampled_from(["0", "1"]))}</v></c>')
            elif kind == "str":
                row.append(f'<c t="str"><v>{escape(draw(RAW_TEXT), draw)}</v></c>')
            elif kind == "empty":
                row.append(draw(st.sampled_from(['<c s="1"/>', "<c><v/></c>", '<c t="s"></c>'])))
            else:
                row.append(None)
        cells.append(row)
    return cells, shared, formats, draw(st.booleans()), draw(st.booleans())


def sheet_xml(cells, with_refs):
    rows = []
    for r, row in enumerate(cells):
        out = []
        for c, cell in enumerate(row):
            if cell is not None:
                ref = f' r="{chr(65 + c)}{r + 1}"' if with_refs else ""
                out.append(cell.replace("<c", "<c" + ref, 1))
            elif not with_refs:
                out.append("<c/>")  # keeps the running column right
        attrs = f' r="{r + 1}"' if with_refs else ""
        rows.append(f"<row{attrs}>{''.join(out)}</row>" if out else f"<row{attrs}/>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet {NS.decode()}><dimension ref="A1"/>'
            f'<sheetData>{"".join(rows)}</sheetData></worksheet>')


def write_raw(path, cells, shared, formats, date1904, with_refs):
    custom = [(164 + k, f) for k, f in enumerate(formats) if isinstance(f, str)]
    num_fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{f.replace("&", "&amp;").replace(chr(34), "&quot;")}"/>'
                       for i, f in custom)  # fmt: skip
    ids = iter(i for i, _ in custom)
    xfs = '<xf numFmtId="0"/>' + "".join(f'<xf numFmtId="{f if isinstance(f, int) else next(ids)}"/>' for f in formats)
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    rel = '<Relationship Id="{}" Type="' + rels + '/{}" Target="{}"/>'
    parts = {
        "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{pkg}/content-types"/>',
        "_rels/.rels": f'<Relationships xmlns="{pkg}/relationships">'
                       f'{rel.format("rId1", "officeDocument", "xl/workbook.xml")}</Relationships>',
        "xl/workbook.xml": f'<workbook {NS.decode()} xmlns:r="{rels}"><workbookPr date1904="{int(date1904)}"/>'
                           '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{pkg}/relationships">'
                                      f'{rel.format("rId1", "worksheet", "worksheets/sheet1.xml")}'
                                      f'{rel.format("rId2", "styles", "styles.xml")}</Relationships>',
        "xl/styles.xml": f"<styleSheet {NS.decode()}><numFmts>{num_fmts}</numFmts><cellXfs>{xfs}</cellXfs></styleSheet>",
        "xl/worksheets/sheet1.xml": sheet_xml(cells, with_refs),
    }  # fmt: skip
    parts = {name: text.encode() for name, text in parts.items()}
    parts["xl/sharedStrings.xml"] = SST % (len(shared), "".join(f"<si>{s}</si>" for s in shared).encode())
    write_zip(path, parts)


@SETTINGS
@given(book=raw_books())
def test_raw_sheets_read_as_calamine_reads_them(tmp_path, book):
    path = str(tmp_path / "raw.xlsx")
    write_raw(path, *book)
    check_same(path)


EDITS = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.text("<>/\"'=&;#xctvrisfb 0A1_", max_size=3)),
                 min_size=1, max_size=3)  # fmt: skip


@SETTINGS
@given(book=raw_books(), edits=EDITS, part=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"]))
def test_damaged_xml_is_read_as_calamine_reads_it_or_left_to_it(tmp_path, book, edits, part):
    path = str(tmp_path / "bad.xlsx")
    write_raw(path, *book)
    with zipfile.ZipFile(path) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    xml = parts[part].decode()
    for where, cut, text in edits:
        at = int(where * len(xml))
        xml = xml[:at] + text + xml[at + cut :]
    parts[part] = xml.encode()
    write_zip(path, parts)
    check_same(path, fast_may_decline=True)


# ------------------------------------------------------------------ examples


def test_a_pandas_workbook_takes_the_fast_path(tmp_path):
    path = str(tmp_path / "p.xlsx")
    frame = pd.DataFrame({"姓名": ["李 杰", None, "a&b"], "date": [datetime.date(2020, 2, 1)] * 3,
                          "n": [43862.0, 0.5, -3.0], "ok": [True, False, True]})  # fmt: skip
    frame.to_excel(path, index=False)
    header, columns = read_first_sheet(path)
    assert header == ["姓名", "date", "n", "ok"]
    assert [c.to_pylist() for c in columns] == [["李 杰", None, "a&b"], ["2020-02-01 00:00:00"] * 3,
                                                ["43862", "0.5", "-3"], ["True", "False", "True"]]  # fmt: skip
    assert check_same(path) is not None


@pytest.mark.parametrize("shared", [False, True])
def test_header_only_one_row_and_formulas(tmp_path, shared):
    for rows in ([], [["x", 1]], [["=1+1", "y"]]):
        path = str(tmp_path / f"h{len(rows)}.xlsx")
        write_openpyxl(path, ["a", "b"], rows)
        if shared:
            to_shared_strings(path)
        check_same(path, fast_may_decline=rows == [["=1+1", "y"]])
    with pytest.raises(Irregular):
        read_first_sheet(path)  # a formula: left to calamine


@pytest.mark.parametrize(
    "old, new",
    [('<dimension ref="A1"/>', '<dimension ref="A0"/>'),  # calamine stops on it
     ("<v>7</v>", "<f>3+4</f><v>7</v>"),  # a formula
     ("<sheetData>", "<sheetData><!-- a comment -->"),
     ('<c r="A1" t="inlineStr"><is><t>a</t></is></c>',
      '<x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="A1" t="inlineStr">'
      "<is><t>a</t></is></x:c>"),  # a prefixed name
     ("<v>7</v>", "<v>7</v><is><t>b</t></is>"),  # two values in one cell
     ("<v>7</v>", "<v>&#55;</v>")],  # an entity in a number
)  # fmt: skip
def test_what_the_fast_reader_declines_is_read_by_calamine(tmp_path, old, new):
    path = str(tmp_path / "d.xlsx")
    cells = [['<c t="inlineStr"><is><t>a</t></is></c>', '<c t="inlineStr"><is><t>b</t></is></c>'],
             ['<c t="inlineStr"><is><t>x</t></is></c>', "<c><v>7</v></c>"]]  # fmt: skip
    write_raw(path, cells, [], [], False, True)
    assert check_same(path) is not None  # the sheet as it is takes the fast path
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    assert old in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(old, new, 1).encode()
    write_zip(path, parts)
    with pytest.raises(Irregular):
        read_first_sheet(path)
    check_same(path, fast_may_decline=True)


def test_not_a_workbook_is_a_load_error(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(Irregular):
        read_first_sheet(str(path))
    with pytest.raises(X.LoadError):
        X.read_xlsx(str(path))


@pytest.mark.parametrize(
    "code, kind",
    [("yyyy-mm-dd", DATE), ("[h]:mm:ss", DURATION), ("0.00", PLAIN), ('0.0" d"', PLAIN), ("#,##0*y", PLAIN),
     ("hh:mm AM/PM", DATE), ("[Red]0", PLAIN), ("\\Y000", PLAIN), ("General", PLAIN), ("ha/p", DATE)],
)  # fmt: skip
def test_format_kind(code, kind):
    assert format_kind(code) == kind
