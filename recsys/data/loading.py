"""Read an order history file (CSV, gzip CSV, Parquet or a spreadsheet) into a frame with
canonical columns.

Only reading and parsing happen here: ids stay strings, timestamps become datetimes, quantity and
price become numbers. What to keep is decided by `recsys.data.cleaning`.
"""

from __future__ import annotations

import gzip
import logging
import re
import warnings
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.data import schema
from recsys.exceptions import DataError

log = logging.getLogger(__name__)

_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz", ".gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_DELIMITERS = (",", ";", "\t", "|")
_STRING_COLUMNS = (
    schema.CUSTOMER_ID,
    schema.ORDER_ID,
    schema.PRODUCT_ID,
    schema.PRODUCT_NAME,
    schema.CATEGORY,
)
_NUMERIC_COLUMNS = (schema.QUANTITY, schema.PRICE)
# Unix time in seconds or milliseconds from 2001-09-09 to 2099-11-05: ranges that no
# YYYYMMDD integer or spreadsheet day number reaches, so the reading is unambiguous.
_UNIX_TIME_UNITS = (("s", 1e9, 4.1e9), ("ms", 1e12, 4.1e12))


def require_file(path: str | Path) -> Path:
    """``path`` as a Path; a DataError if it is a directory or does not exist."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return path


def read_orders(
    path: str | Path,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read ``path`` and return its order lines under canonical column names.

    ``preset`` names a known layout (see `schema.PRESETS`); ``columns`` maps canonical names to
    the file's own (it wins over the preset). The frame has string ids (missing ones as NA),
    a ``timestamp`` column of datetimes and numeric ``quantity`` / ``price`` where present.
    Raises DataError for a missing or unreadable file, a missing required column, or a value
    that cannot be parsed (with its row number, column and value).
    """
    path = require_file(path)
    preset_obj = schema.get_preset(preset) if preset else None
    name = path.name.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        return _parse_values(_read_parquet(path, preset_obj, columns), str(path), None)
    if name.endswith(_CSV_SUFFIXES):
        frame, delimiter = _read_csv(path, preset_obj, columns)
        return _parse_values(frame, str(path), delimiter)
    if name.endswith(_SPREADSHEET_SUFFIXES):
        return _read_spreadsheet(path, preset_obj, columns)
    raise DataError(
        f"{path}: unknown file type; expected one of "
        f"{', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES + _SPREADSHEET_SUFFIXES)}"
    )


def _read_parquet(path: Path, preset, columns) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        found = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{path}: cannot read as Parquet: {_one_line(exc)}") from None
    resolved = schema.resolve_columns(found, preset=preset, mapping=columns, source=str(path))
    try:
        frame = pd.read_parquet(path, columns=list(dict.fromkeys(resolved.values())))
    except Exception as exc:
        raise DataError(f"{path}: cannot read as Parquet: {_one_line(exc)}") from None
    # Arrow's allocator keeps the pages of the decoded table for reuse; the frame no longer
    # needs them, and on a 30M-line file they are gigabytes that cleaning would pile onto.
    pa.default_memory_pool().release_unused()
    return _rename(frame, resolved)


def _read_csv(path: Path, preset, columns) -> tuple[pd.DataFrame, str]:
    for encoding in _encodings(path):
        try:
            header_line = _first_line(path, encoding)
            # Excel writes and honours a first line "sep=;" naming the delimiter.
            hint = re.fullmatch(r'"?sep=(.)"?\s*', header_line)
            skip = 1 if hint else 0
            delimiter = hint.group(1) if hint else max(_DELIMITERS, key=header_line.count)
            found = pd.read_csv(
                path,
                sep=delimiter,
                nrows=0,
                encoding=encoding,
                skipinitialspace=True,
                skiprows=skip,
            ).columns.tolist()
            resolved = schema.resolve_columns(
                found, preset=preset, mapping=columns, source=str(path)
            )
            frame = pd.read_csv(
                path,
                sep=delimiter,
                encoding=encoding,
                usecols=list(dict.fromkeys(resolved.values())),
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=True,
                skiprows=skip,
            )
        except UnicodeDecodeError:
            if encoding == "utf-8":
                log.warning("%s is not UTF-8; reading it as Windows-1252", path)
            continue
        except (OSError, EOFError, zlib.error, pd.errors.ParserError) as exc:
            raise DataError(f"{path}: cannot read as CSV: {_one_line(exc)}") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{path}: the file is empty") from None
        if frame.empty:
            raise DataError(f"{path}: no order lines, only a header")
        return _rename(frame, resolved), delimiter
    raise DataError(f"{path}: cannot decode the file as UTF-8 or Windows-1252 text")


#: How far down a sheet its header may be (below a report's title, a date, a blank row).
HEADER_SEARCH_ROWS = 20


def _read_spreadsheet(path: Path, preset, columns) -> pd.DataFrame:
    """Every sheet holding the order columns (Online Retail II splits its years in two),
    parsed sheet by sheet so that an error names the sheet and the spreadsheet's row. A
    sheet's header is the first of its rows that names the order columns."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    except Exception as exc:  # the engine raises its own types for a bad workbook
        raise DataError(f"{path}: cannot read as a spreadsheet: {_one_line(exc)}") from None
    frames, first_error = [], None
    for sheet_name, sheet in sheets.items():
        source = f"{path}, sheet '{sheet_name}'"
        found = _sheet_header(sheet, preset, columns, source)
        if isinstance(found, DataError):  # a sheet of notes or totals beside the orders
            first_error = first_error or found
            continue
        header, resolved = found
        body = sheet.iloc[header + 1 :]
        body.columns = [str(c) for c in sheet.iloc[header]]
        frame = _rename(body.reset_index(drop=True), resolved)
        for column in _STRING_COLUMNS:
            if column in frame:
                # A spreadsheet keeps numbers as floats: the product 22086 comes back 22086.0.
                strings = frame[column].astype("string")
                frame[column] = strings.str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)
        if len(frame):
            # Sheet rows count from 1, and the first order line is under the header.
            frames.append(_parse_values(frame, source, None, first_row=header + 2))
    if not frames:
        raise first_error or DataError(f"{path}: no order lines in any sheet")
    if len(frames) > 1:
        log.info(
            "%s: %d sheets of orders, %s lines", path, len(frames), f"{sum(map(len, frames)):,}"
        )
    return pd.concat(frames, ignore_index=True)


def _sheet_header(
    sheet: pd.DataFrame, preset, columns, source: str
) -> tuple[int, dict[str, str]] | DataError:
    """(row, resolved columns) of the sheet's header, or the error of its first row."""
    first_error = DataError(f"{source}: the sheet is empty")
    for row in range(min(HEADER_SEARCH_ROWS, len(sheet))):
        names = [str(v) for v in sheet.iloc[row] if not pd.isna(v)]
        try:
            return row, schema.resolve_columns(names, preset=preset, mapping=columns, source=source)
        except DataError as exc:
            if row == 0:
                first_error = exc
    return first_error


def _encodings(path: Path) -> tuple[str, ...]:
    """Encodings to try: a byte-order mark settles it (UTF-16 from spreadsheet exports, UTF-8
    with BOM); otherwise UTF-8, then Windows-1252."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            start = handle.read(4)
    except (OSError, EOFError, zlib.error):
        start = b""  # reported by the CSV reader with its own message
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("utf-16",)
    if start.startswith(b"\xef\xbb\xbf"):
        return ("utf-8-sig",)
    return ("utf-8", "cp1252")


def _first_line(path: Path, encoding: str) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding=encoding) as handle:
        return handle.readline()


def _rename(frame: pd.DataFrame, resolved: Mapping[str, str]) -> pd.DataFrame:
    return pd.DataFrame({canonical: frame[source] for canonical, source in resolved.items()})


def _parse_values(
    frame: pd.DataFrame, source: str, delimiter: str | None, first_row: int = 1
) -> pd.DataFrame:
    """Ids to strings, timestamps and numbers parsed; errors count rows from ``first_row``."""
    for column in _STRING_COLUMNS:
        if column in frame:
            frame[column] = as_id_strings(frame[column])
    frame[schema.TIMESTAMP] = parse_timestamps(frame[schema.TIMESTAMP], source, first_row)
    for column in _NUMERIC_COLUMNS:
        if column in frame:
            frame[column] = _parse_numbers(frame[column], column, source, delimiter, first_row)
    return frame


def as_id_strings(values: pd.Series) -> pd.Series:
    """Ids as stripped strings; integral floats (Parquet/pandas artefacts) lose their '.0'."""
    if pd.api.types.is_float_dtype(values):
        as_int = values.astype("Int64") if (values.dropna() % 1 == 0).all() else values
        values = as_int.astype("string")
    strings = values.astype("string").str.strip()
    return strings.mask(strings == "")


def parse_timestamps(values: pd.Series, source: str = "input", first_row: int = 1) -> pd.Series:
    """Parse a column of dates or date-times; raise DataError at the first value that fails.

    The format is inferred from the data. Where the format inferred month first fails on some
    values and day first reads more of them ("03/04/2023" beside "25/04/2023"), the whole
    column is read day first: one reading for every value, never month first for some and day
    first for others. A column still mixing formats is parsed value by value. Numbers of Unix
    seconds or milliseconds (from 2001 to 2099) are read as such. Time zones are
    converted to UTC and dropped, so every timestamp is naive. Rows in errors count from
    ``first_row`` (2 in a spreadsheet, whose row 1 is the header).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    elif (unix := _unix_time(values)) is not None:
        unit, numbers = unix
        log.info("%s: timestamps read as Unix time in %s", source, unit)
        parsed = pd.to_datetime(numbers, unit=unit)
    else:
        strings = values.astype("string")
        with warnings.catch_warnings():
            # pandas warns when the format it infers reads the day first; that is intended.
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.to_datetime(strings, errors="coerce", utc=True)
            dayfirst = False
            if parsed.isna().sum() > strings.isna().sum():
                by_day = pd.to_datetime(strings, errors="coerce", utc=True, dayfirst=True)
                if by_day.isna().sum() < parsed.isna().sum():
                    example = strings[parsed.isna() & by_day.notna()].iloc[0]
                    log.info("%s: dates read day first, as %r says", source, example)
                    parsed, dayfirst = by_day, True
            retry = parsed.isna() & strings.notna()
            if retry.any():
                parsed[retry] = pd.to_datetime(
                    strings[retry], errors="coerce", format="mixed", dayfirst=dayfirst, utc=True
                )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{source}: row {row + first_row}, column '{schema.TIMESTAMP}': "
            f"cannot parse timestamp {_show(values.iloc[row])}"
        )
    return parsed.astype("datetime64[s]")


def _unix_time(values: pd.Series) -> tuple[str, pd.Series] | None:
    """``(unit, numbers)`` where the column is Unix time in seconds or milliseconds: at least
    half its values are numbers and all of them fall in one unit's range. Other values are
    left missing in ``numbers``, so an error names the first of them."""
    present = values.dropna()
    # The first value decides cheaply for the usual columns of dates.
    if present.empty or pd.isna(pd.to_numeric(str(present.iloc[0]).strip(), errors="coerce")):
        return None
    numbers = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    found = numbers.dropna()
    if len(found) < len(present) / 2:
        return None
    for unit, low, high in _UNIX_TIME_UNITS:
        if found.between(low, high).all():
            return unit, numbers
    return None


def _parse_numbers(
    values: pd.Series, column: str, source: str, delimiter: str | None, first_row: int
) -> pd.Series:
    """Numbers of a column; in a CSV file, a column whose every value is written with the
    delimiter's thousands separator or decimal comma (`_NumberStyle`) is read as such."""
    original = values
    numbers = pd.to_numeric(values, errors="coerce")
    bad = (numbers.isna() & values.notna()).to_numpy()
    if bad.any() and column == schema.PRICE:
        # Prices are often written with their currency: "€4.50", "4,50 EUR".
        values = values.astype("string").str.replace(_CURRENCY, "", regex=True)
        numbers = pd.to_numeric(values, errors="coerce")
        bad = (numbers.isna() & values.notna()).to_numpy()
    if bad.any() and delimiter is not None:
        style = _THOUSANDS_COMMAS if delimiter == "," else _DECIMAL_COMMAS
        strings = values.astype("string").str.strip()
        if (strings.str.fullmatch(style.pattern) | strings.isna()).all():
            log.info("%s: column '%s' read with %s", source, column, style.name)
            plain = strings.str.replace(style.thousands, "", regex=False)
            return pd.to_numeric(plain.str.replace(style.decimal, ".", regex=False)).astype(
                "float64"
            )
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{source}: row {row + first_row}, column '{column}': "
            f"not a number: {_show(original.iloc[row])}"
        )
    return numbers.astype("float64")


#: A currency sign or ISO code before or after a price.
_CURRENCY = r"^\s*(?:[€$£¥₹]|[A-Z]{3}(?=[\s\d.,+-]))\s*|\s*(?:[€$£¥₹]|(?<=[\s\d])[A-Z]{3})\s*$"


class _NumberStyle(NamedTuple):
    """How a locale writes numbers: its thousands separator and its decimal mark."""

    name: str
    pattern: str
    thousands: str
    decimal: str


# A ';' (or tab, '|') delimited file comes from a locale writing "1.234,5"; a ',' delimited
# one, where such a value must be quoted, from one writing "1,234.5".
_DECIMAL_COMMAS = _NumberStyle(
    "decimal commas", r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?", ".", ","
)
_THOUSANDS_COMMAS = _NumberStyle(
    "thousands separators", r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?", ",", "."
)


def _show(value: object) -> str:
    return "(empty)" if pd.isna(value) else repr(str(value))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
