"""Benchmark: peak memory and time of `tongxin import` on hostile rosters.

    /work/venv/bin/python -m bench.import_bounds [--rows 1048576] [--raised]
        [--db postgresql://postgres@127.0.0.1:5432/bench_bounds]

Writes (once, into ``bench/data/``, git-ignored) a 1,048,576-row .xlsx (the sheet XML
written straight into the zip: seconds, not minutes), a zip bomb (an .xlsx whose sheet
unpacks to 4 GiB of spaces from 27 MB), a forged zip (a part that declares 1 KB and
unpacks to 256 MiB) and a CSV of one 64 MiB line; then runs the real ``tongxin import``
on each in a subprocess of its own, into a fresh migrated database, and prints the
answer (exit code, the first line of the message), the wall time and the peak RSS of
the subprocess (``resource.getrusage(RUSAGE_CHILDREN)``, so each runs alone after a
fork). With ``--raised``, the 1,048,576-row sheet is imported again with
``[import] max_rows = 1100000`` (the whole import, no refusal).

The generators are used by tests/security/test_import_bounds.py too.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData>"
)
SHEET_TAIL = b"</sheetData></worksheet>"
_PARTS = {
    "[Content_Types].xml": _CONTENT_TYPES,
    "_rels/.rels": _RELS,
    "xl/workbook.xml": _WORKBOOK,
    "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
}

_SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"
_GIVEN = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学"


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def million_row_xlsx(path: Path, rows: int = 1_048_576, *, people: bool = True) -> Path:
    """A roster of ``rows`` sheet rows: a header 姓名/性别/手机, then distinct people
    (``people``) or, quicker to write, a number per row; the sheet XML written into the
    zip in blocks (a few seconds for 1,048,576 rows)."""
    head = _inline("A1", "姓名") + _inline("B1", "性别") + _inline("C1", "手机")
    ns, ng = len(_SURNAMES), len(_GIVEN)

    def person(r: int) -> str:
        i = r - 2
        name = _SURNAMES[i % ns] + _GIVEN[(i // ns) % ng] + _GIVEN[(i // ns // ng) % ng]
        name += str(i // (ns * ng * ng)) if i >= ns * ng * ng else ""
        return (
            f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{name}</t></is></c>'
            f'<c r="B{r}" t="inlineStr"><is><t>{"男女"[i % 2]}</t></is></c>'
            f'<c r="C{r}"><v>{13_000_000_000 + i}</v></c></row>'
        )

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in _PARTS.items():
            zf.writestr(name, text)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(SHEET_HEAD + f'<row r="1">{head}</row>'.encode())
            for start in range(2, rows + 1, 50_000):
                stop = min(start + 50_000, rows + 1)
                if people:
                    block = "".join(map(person, range(start, stop)))
                else:
                    block = "".join(
                        f'<row r="{r}"><c r="C{r}"><v>{r}</v></c></row>' for r in range(start, stop)
                    )
                fh.write(block.encode())
            fh.write(SHEET_TAIL)
    return path


def _spaces_deflate(groups: int, head: bytes = b"", tail: bytes = b"") -> tuple[bytes, int]:
    """A raw deflate stream (one fixed-Huffman block): the literals ``head``, one space,
    ``groups`` × 8 copies of 258 spaces (length 258, distance 1), the literals ``tail``;
    and its unpacked size. Built bit by bit once, then by repeating the 13 bytes that 8
    copies take (the bit offset is the same after every 8), so 4 GiB take a moment."""
    out = bytearray()
    acc = nbits = 0

    def bits(value: int, n: int) -> None:
        nonlocal acc, nbits
        acc |= value << nbits
        nbits += n
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    def huff(code: int, n: int) -> None:  # Huffman codes go most significant bit first
        bits(int(f"{code:0{n}b}"[::-1], 2), n)

    def literal(byte: int) -> None:
        assert byte < 144  # ASCII: the 8-bit codes
        huff(0x30 + byte, 8)

    def copy() -> None:
        huff(0b11000101, 8)  # length code 285: 258 bytes
        huff(0, 5)  # distance code 0: distance 1

    bits(1, 1)  # BFINAL
    bits(1, 2)  # BTYPE 01: fixed Huffman codes
    for b in head + b" ":
        literal(b)
    for _ in range(8):
        copy()
    prefix = bytes(out)
    out.clear()
    for _ in range(8):
        copy()
    group = bytes(out)
    out.clear()
    for b in tail:
        literal(b)
    huff(0, 7)  # end of block
    if nbits:
        out.append(acc & 0xFF)
    data = prefix + group * (groups - 1) + bytes(out)
    return data, len(head) + 1 + 258 * 8 * groups + len(tail)


def _raw_zip(path: Path, parts: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip written by hand: ``(name, packed data, method, crc, unpacked size)`` per
    part, with zip64 sizes where they are needed (as Excel writes a big part)."""
    central = bytearray()
    with path.open("wb") as fh:
        for name, data, method, crc, size in parts:
            offset = fh.tell()
            raw_name = name.encode()
            big = size >= 0xFFFFFFFF or len(data) >= 0xFFFFFFFF
            extra = struct.pack("<HHQQ", 1, 16, size, len(data)) if big else b""
            sizes = (0xFFFFFFFF, 0xFFFFFFFF) if big else (len(data), size)
            version = 45 if big else 20
            fh.write(
                struct.pack(
                    "<IHHHHHIIIHH",
                    0x04034B50,
                    version,
                    0,
                    method,
                    0,
                    0x21,
                    crc,
                    *sizes,
                    len(raw_name),
                    len(extra),
                )
                + raw_name
                + extra
            )
            fh.write(data)
            central += (
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    version,
                    version,
                    0,
                    method,
                    0,
                    0x21,
                    crc,
                    *sizes,
                    len(raw_name),
                    len(extra),
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + raw_name
                + extra
            )
        start = fh.tell()
        fh.write(central)
        fh.write(
            struct.pack(
                "<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(central), start, 0
            )
        )
    return path


def _small_parts() -> list[tuple[str, bytes, int, int, int]]:
    return [(n, t.encode(), 0, zlib.crc32(t.encode()), len(t.encode())) for n, t in _PARTS.items()]


def zip_bomb_xlsx(path: Path, gib: int = 4) -> Path:
    """An .xlsx whose sheet XML unpacks to ``gib`` GiB of spaces (whitespace: valid
    XML) between <sheetData> and </sheetData>, packed into about 27 MB per 4 GiB,
    with honest (zip64) sizes. The CRC is not computed (4 GiB would take a while to
    checksum): the workbook must be refused before anything reads that far."""
    groups = gib * (1 << 30) // (258 * 8)
    data, size = _spaces_deflate(groups, SHEET_HEAD, SHEET_TAIL)
    parts = [*_small_parts(), ("xl/worksheets/sheet1.xml", data, 8, 0, size)]
    return _raw_zip(path, parts)


def forged_zip_xlsx(path: Path, mib: int = 256) -> Path:
    """An .xlsx whose sheet part declares 1,000 bytes but unpacks to ``mib`` MiB of
    spaces: the sizes in a zip are the attacker's to write."""
    groups = mib * (1 << 20) // (258 * 8)
    data, _size = _spaces_deflate(groups, SHEET_HEAD, SHEET_TAIL)
    sheet = ("xl/worksheets/sheet1.xml", data, 8, zlib.crc32(b""), 1000)
    return _raw_zip(path, [*_small_parts(), sheet])


def dense_ratio_xlsx(path: Path, mib: int = 48) -> Path:
    """A valid .xlsx (real CRCs, honest sizes) whose sheet is ``mib`` MiB of spaces
    packed about a thousand times: over the ratio bound."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in _PARTS.items():
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + b" " * (mib << 20) + SHEET_TAIL)
    return path


def far_cell_xlsx(path: Path, ref: str = "XFD1048576") -> Path:
    """A tiny .xlsx with a header and one cell at ``ref``: calamine would lay out the
    whole grid up to it."""
    sheet = (
        SHEET_HEAD
        + b'<row r="1">'
        + (_inline("A1", "姓名") + _inline("B1", "性别")).encode()
        + b"</row>"
        + f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">{_inline(ref, "x")}</row>'.encode()
        + SHEET_TAIL
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in _PARTS.items():
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def repeated_rows_ods(path: Path, rows: int = 1_000_000, columns: int = 2) -> Path:
    """An .ods of a few hundred bytes whose one row is repeated ``rows`` times."""
    t = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        f'xmlns:table="{t}" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'office:version="1.2"><office:body><office:spreadsheet><table:table table:name="名单">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>姓名</text:p>'
        '</table:table-cell><table:table-cell office:value-type="string"><text:p>性别</text:p>'
        "</table:table-cell></table:table-row>"
        f'<table:table-row table:number-rows-repeated="{rows}">'
        '<table:table-cell office:value-type="string" '
        f'table:number-columns-repeated="{columns}"><text:p>张三</text:p></table:table-cell>'
        "</table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
    return path


def one_line_csv(path: Path, mib: int = 64) -> Path:
    """A CSV of a header and then one line of ``mib`` MiB without a line break."""
    with path.open("wb") as fh:
        fh.write("姓名,性别\n".encode())
        block = b"a" * (1 << 20)
        for _ in range(mib):
            fh.write(block)
    return path


# -- the benchmark ----------------------------------------------------------------------

_CHILD = """
import resource, sys, time
from crm_cli.main import run
t = time.perf_counter()
code = run(sys.argv[1:])
sys.stdout.flush()
print(f"@@ {code} {time.perf_counter() - t:.2f}", file=sys.stderr)
sys.exit(code)
"""


def measure(args: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """Run ``tongxin ARGS`` in a subprocess of its own: (exit code, seconds, peak RSS in
    MiB, what it wrote to stderr and stdout, on one line)."""
    code = (
        "import os, resource, subprocess, sys\n"
        f"p = subprocess.run([sys.executable, '-c', {_CHILD!r}, *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(p.returncode, peak)\n"
        "print(p.stderr + p.stdout)\n"
    )
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    seconds = time.perf_counter() - t
    first, rest = done.stdout.split("\n", 1)
    rc, peak = first.split()
    message = " ".join(line for line in rest.splitlines() if line.strip() and "@@" not in line)
    return int(rc), seconds, float(peak), message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_048_576)
    parser.add_argument("--raised", action="store_true", help="also import with the limit raised")
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    files: dict[str, Path] = {}
    sheet_label = f"{args.rows:,}-row sheet"
    for label, name, make in (
        (sheet_label, f"rows-{args.rows}.xlsx", lambda p: million_row_xlsx(p, args.rows)),
        ("zip bomb (4 GiB of spaces)", "bomb-4g.xlsx", zip_bomb_xlsx),
        ("forged sizes (1 KB declared, 256 MiB)", "forged.xlsx", forged_zip_xlsx),
        ("ratio ~1000 (48 MiB of spaces)", "ratio.xlsx", dense_ratio_xlsx),
        ("one cell at XFD1048576", "far-cell.xlsx", far_cell_xlsx),
        (".ods row repeated 1,000,000 times", "repeated.ods", repeated_rows_ods),
        ("CSV of one 64 MiB line", "one-line.csv", one_line_csv),
    ):  # fmt: skip
        path = DATA / name
        if not path.exists():
            t = time.perf_counter()
            make(path)
            print(f"wrote {path.name} ({path.stat().st_size / 1e6:.1f} MB) in "
                  f"{time.perf_counter() - t:.1f} s")  # fmt: skip
        files[label] = path
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        config = Path(tmp) / "config.toml"
        config.write_text("", "utf-8")
        env["TONGXIN_CONFIG"] = str(config)
        env["TONGXIN_LOAD_PLUGINS"] = ""
        db = args.db or str(Path(tmp) / "bench.db")
        rc, _s, peak, msg = measure(["--db", db, "db", "upgrade"], env)
        print(f"db upgrade: exit {rc}, peak {peak:.0f} MiB")
        rc, seconds, peak, _msg = measure(["--db", db, "contacts", "search", "x"], env)
        print(f"baseline (start-up and one search): exit {rc}, {seconds:.1f} s, {peak:.0f} MiB")
        print("| file | answer | wall | peak RSS |")
        print("| --- | --- | ---: | ---: |")
        runs = [(label, path, "") for label, path in files.items()]
        if args.raised:
            runs.append((files[f"{args.rows:,}-row sheet"].name, files[f"{args.rows:,}-row sheet"],
                         f"[import]\nmax_rows = {args.rows + 1000}\n"))  # fmt: skip
        for label, path, extra in runs:
            config.write_text(extra, "utf-8")
            rc, seconds, peak, msg = measure(["--db", db, "import", str(path)], env)
            what = f"{label}{' (max_rows raised)' if extra else ''}"
            print(f"| {what} | exit {rc}: {msg[:90]} | {seconds:.1f} s | {peak:.0f} MiB |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
