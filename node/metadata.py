"""Record metadata from the rows archivists' tools export: CSV or JSON lines.

A CSV's header row names DA/T 46 elements as the tools write them (档号, 题名, 责任者, 形成日期,
文种, 密级, 保管期限...) or our field names (``archival_code``, ``title``...); ``HEADERS`` maps
each to a ``Record`` field, and columns it does not know (页数, 备注...) are noted and left out.
A JSON line is an object with the same keys. 全宗号, 门类, 年度 and 保管期限 may be left out: the
档号 says them (if given, they must agree with it); the record's identifier, if not given, is
its 档号 with ``·`` written ``.``, so the same row always names the same record.

``parse_row`` turns one row into a ``Record`` (held by ``holder``) or the zh-CN reasons it
cannot be one; it never raises for what a row contains (Hypothesis checks that).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from node.errors import InvalidRecord
from node.records import (
    CATEGORIES,
    CATEGORY_BY_CODE,
    MAX_FILES,
    Access,
    Record,
    Retention,
    nonstandard_reason,
    parse_archival_code,
)

HEADERS: dict[str, str] = {
    "档号": "archival_code", "全宗号": "fonds", "门类": "category", "门类代码": "category",
    "类别": "category", "年度": "year", "保管期限": "retention", "题名": "title",
    "责任者": "creator", "形成日期": "date", "日期": "date", "文种": "doc_type",
    "密级": "secrecy", "件号": "item", "开放状态": "access", "控制标识": "access",
    "开放属性": "access", "当事人": "subjects", "档案标识": "record_id", "电子文件": "files",
    "文件": "files", "计算机文件名": "files", "计算机文件大小": "file_bytes",
    "文件大小": "file_bytes", "格式信息": "file_format", "文件格式": "file_format",
    "版本": "version", "身份索引": "subject_index", "机构或问题": "org",
    "机构（问题）代码": "org", "机构问题代码": "org",
}  # fmt: skip
FIELDS = {
    "record_id", "archival_code", "fonds", "category", "year", "retention", "title",
    "creator", "date", "access", "subjects", "subject_index", "files", "version", "doc_type",
    "secrecy", "item", "file_bytes", "file_format", "org", "holder", "deleted",
}  # fmt: skip
REQUIRED = ("archival_code", "title", "creator")  # 档号, 题名, 责任者 (DA/T 46 必著)
_ACCESS = {
    "开放": Access.OPEN, "open": Access.OPEN, "控制使用": Access.CONTROLLED,
    "控制": Access.CONTROLLED, "controlled": Access.CONTROLLED, "不开放": Access.CLOSED,
    "closed": Access.CLOSED,
}  # fmt: skip
_LABELS = {"archival_code": "档号", "title": "题名", "creator": "责任者"}
_LIST_SEPARATORS = ("；", ";", "|")
MAX_CELL_CHARS = 4000


@dataclass(frozen=True)
class Row:
    """One metadata row, parsed: the record it makes (``None`` if it cannot), the package
    files it names, the file attributes it states, and what is wrong with it (zh-CN)."""

    number: int  # the line number people see (a CSV's header is line 1)
    record: Record | None
    files: tuple[str, ...] = ()
    file_bytes: int | None = None
    file_format: str = ""
    problems: tuple[tuple[str, str, str], ...] = ()  # (property, check, reason)
    code: str = ""  # the 档号 cell as written, even if the row makes no record


def field_of(header: str) -> str | None:
    """The ``Record`` field a column header names, or ``None`` if it is not one we know."""
    name = header.strip().lstrip("\ufeff")
    if name in FIELDS:
        return name
    return HEADERS.get(name)


def read_csv(data: bytes, holder: str) -> tuple[list[Row], list[str], str]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030 as Windows tools save it), the
    headers that name nothing we keep, and a zh-CN problem with the file itself ("" if none)."""
    try:
        textual = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            textual = data.decode("gb18030")
        except UnicodeDecodeError:
            return [], [], "元数据文件既不是 UTF-8 也不是 GB18030 编码"
    reader = csv.reader(io.StringIO(textual, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [], [], "元数据文件没有标题行"
    fields = [field_of(h) for h in header]
    unknown = [h for h, f in zip(header, fields, strict=True) if f is None and h.strip()]
    if "archival_code" not in fields:
        return [], unknown, "元数据文件的标题行缺少“档号”列"
    rows: list[Row] = []
    try:
        number = reader.line_num + 1  # where the row starts: a quoted cell may span lines
        for cells in reader:
            number, start = reader.line_num + 1, number
            if not any(c.strip() for c in cells):
                continue
            values = {f: c for f, c in zip(fields, cells, strict=False) if f is not None}
            rows.append(parse_row(values, start, typed=False, holder=holder))
    except csv.Error as exc:
        return rows, unknown, f"第 {reader.line_num} 行 CSV 格式错误：{exc}"
    return rows, unknown, ""


def read_jsonl(data: bytes, holder: str) -> tuple[list[Row], list[str], str]:
    """Rows of a JSON-lines file (UTF-8), each an object keyed like a CSV header."""
    rows: list[Row] = []
    unknown: set[str] = set()
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            rows.append(_bad(number, "真实性", "json", "不是有效的 UTF-8 JSON 行"))
            continue
        if not isinstance(item, dict):
            rows.append(_bad(number, "真实性", "json", "每行应为一个 JSON 对象"))
            continue
        values: dict[str, Any] = {}
        for key, value in item.items():
            name = field_of(str(key))
            if name is None:
                unknown.add(str(key)[:40])
            else:
                values[name] = value
        rows.append(parse_row(values, number, typed=True, holder=holder))
    return rows, sorted(unknown), ""


def _bad(number: int, prop: str, check: str, reason: str) -> Row:
    return Row(number, None, problems=((prop, check, reason),))


def _text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRecord(f"应为文本，收到 {type(value).__name__}")
    if len(value) > MAX_CELL_CHARS:
        raise InvalidRecord(f"单元格超过 {MAX_CELL_CHARS} 字")
    return value.strip()


def _list(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(_text(v) for v in value)
    cell = _text(value)
    for separator in _LIST_SEPARATORS:
        if separator in cell:
            return tuple(part.strip() for part in cell.split(separator) if part.strip())
    return (cell,) if cell else ()


def _int(value: object, label: str, typed: bool) -> int | None:
    if value is None or value == "":
        return None
    if typed and isinstance(value, int) and not isinstance(value, bool):
        return value
    cell = _text(value) if isinstance(value, str) else None
    if cell is None or not cell.isascii() or not cell.isdigit() or len(cell) > 18:
        raise InvalidRecord(f"{label}应为整数: {str(value)[:40]!r}")
    return int(cell)


def _date(value: str) -> str:
    """形成日期 as DA/T 46 writes it (``20150520``) or ISO (``2015-05-20``), as ISO."""
    if len(value) == 8 and value.isascii() and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def parse_row(values: Mapping[str, Any], number: int, *, typed: bool, holder: str) -> Row:
    """One row (field -> cell) as a ``Row``; ``typed``: JSON values, else CSV text cells."""
    missing = [_LABELS[f] for f in REQUIRED if not (str(values.get(f) or "")).strip()]
    if missing:
        return _failed(
            values, number, "完整性", "required", f"缺少必填著录项：{'、'.join(missing)}"
        )
    try:
        return _parse(values, number, typed, holder)
    except InvalidRecord as exc:
        classified = "涉密" in str(exc)
        return _failed(
            values,
            number,
            "安全性" if classified else "真实性",
            "classified" if classified else "metadata",
            str(exc),
        )


def _failed(values: Mapping[str, Any], number: int, prop: str, check: str, reason: str) -> Row:
    """A row that makes no record, still naming its 档号 and files (the continuity check
    counts its item; its files are its own, not "extra" files of the package)."""
    code = values.get("archival_code")
    try:
        files = _list(values.get("files"))
    except InvalidRecord:
        files = ()
    code_text = code.strip() if isinstance(code, str) else ""
    return replace(_bad(number, prop, check, reason), code=code_text, files=files)


def _parse(values: Mapping[str, Any], number: int, typed: bool, holder: str) -> Row:
    code_text = _text(values["archival_code"])
    code = parse_archival_code(code_text)
    problems: list[tuple[str, str, str]] = []
    reason = nonstandard_reason(code_text)
    if reason:
        problems.append(("真实性", "archival_code", f"档号 {code_text} 不合 DA/T 22：{reason}"))
    category = _text(values.get("category")) or CATEGORY_BY_CODE[code.category_code]
    category = CATEGORY_BY_CODE.get(category, category)
    if category not in CATEGORIES:
        raise InvalidRecord(f"门类未知: {category!r}")
    retention_text = _text(values.get("retention"))
    retention = Retention.from_code(retention_text) if retention_text else code.retention
    access_text = _text(values.get("access")) or "open"
    if access_text not in _ACCESS:
        raise InvalidRecord(f"开放状态未知: {access_text!r}（可选: 开放、控制使用、不开放）")
    year = _int(values.get("year"), "年度", typed)
    item = _int(values.get("item"), "件号", typed)
    if item is not None and item != code.item:
        raise InvalidRecord(f"件号 {item} 与档号中的件号 {code.item} 不符")
    org = _text(values.get("org"))
    if org and org != code.org:
        raise InvalidRecord(f"机构或问题代码 {org} 与档号中的 {code.org or '（无）'} 不符")
    files = _list(values.get("files"))
    if len(files) > MAX_FILES:
        raise InvalidRecord(f"电子文件最多 {MAX_FILES} 个")
    version = _int(values.get("version"), "版本", typed)
    record = Record(
        holder=holder,  # whoever ingests holds it (a bag exported elsewhere names another)
        record_id=_text(values.get("record_id")) or str(code).replace("·", "."),
        archival_code=code_text,
        fonds=_text(values.get("fonds")) or code.fonds,
        category=category,
        year=year if year is not None else code.year,
        retention=retention,
        title=_text(values["title"]),
        creator=_text(values["creator"]),
        date=_date(_text(values.get("date"))),
        access=_ACCESS[access_text],
        subjects=_list(values.get("subjects")),
        subject_index=_list(values.get("subject_index")),
        version=version if version is not None else 1,
        doc_type=_text(values.get("doc_type")),
        secrecy=_text(values.get("secrecy")),
    )
    file_bytes = _int(values.get("file_bytes"), "计算机文件大小", typed)
    return Row(
        number,
        record,
        files,
        file_bytes,
        _text(values.get("file_format")),
        tuple(problems),
        code_text,
    )


def rows_of(name: str, data: bytes, holder: str) -> tuple[list[Row], list[str], str]:
    """The rows of a metadata file, read by its kind (``.csv`` or JSON lines)."""
    return read_csv(data, holder) if name.lower().endswith(".csv") else read_jsonl(data, holder)


def iter_problems(rows: list[Row]) -> Iterator[tuple[int, str, str, str]]:
    for row in rows:
        for prop, check, reason in row.problems:
            yield row.number, prop, check, reason
