import gzip

import pandas as pd
import pytest

from recsys.data import load_history, read_orders
from recsys.data.schema import parse_column_mapping
from recsys.exceptions import DataError, ParameterError
from tests.helpers import SAMPLE, frame_from_rows, write_csv

ROWS = [("c1", "o1", 0, "p1", 2), ("c1", "o1", 0, "p2", 1), ("c2", "o2", 3, "p1", 5)]


def test_reads_canonical_csv(tmp_path):
    frame = read_orders(write_csv(frame_from_rows(ROWS), tmp_path / "orders.csv"))
    assert list(frame.columns[:4]) == ["customer_id", "order_id", "timestamp", "product_id"]
    assert frame["quantity"].tolist() == [2.0, 1.0, 5.0]
    assert frame["timestamp"].iloc[2] == pd.Timestamp("2024-01-04 09:00")


def test_reads_gzip_semicolon_and_parquet_alike(tmp_path):
    frame = frame_from_rows(ROWS)
    frame.to_csv(tmp_path / "orders.csv.gz", index=False, sep=";")
    frame.to_parquet(tmp_path / "orders.parquet")
    a = read_orders(tmp_path / "orders.csv.gz")
    b = read_orders(tmp_path / "orders.parquet")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_an_excel_delimiter_line_is_honoured(tmp_path):
    # Excel writes "sep=;" above the header of a CSV it saves for another locale.
    path = tmp_path / "orders.csv"
    path.write_text("sep=;\n" + frame_from_rows(ROWS).to_csv(index=False, sep=";"))
    frame = read_orders(path)
    assert frame["product_id"].tolist() == ["p1", "p2", "p1"]
    assert frame["quantity"].tolist() == [2.0, 1.0, 5.0]


def test_online_retail_preset_reads_both_uci_layouts(tmp_path):
    uci = load_history(SAMPLE, preset="online-retail")
    raw = pd.read_csv(SAMPLE, dtype=str)
    # Online Retail II names three of the columns differently.
    raw.rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    ).to_csv(tmp_path / "ii.csv", index=False)
    uci2 = load_history(tmp_path / "ii.csv", preset="online-retail")
    assert uci.n_lines == uci2.n_lines > 0
    assert (uci.customer_ids == uci2.customer_ids).all()


def test_column_mapping(tmp_path):
    frame = frame_from_rows(ROWS).rename(columns={"customer_id": "Client", "product_id": "SKU"})
    path = write_csv(frame, tmp_path / "orders.csv")
    history = load_history(path, columns=parse_column_mapping("customer_id=Client,product_id=SKU"))
    assert sorted(history.customer_ids) == ["c1", "c2"]
    assert sorted(history.product_ids) == ["p1", "p2"]


def test_bad_column_mapping_text():
    with pytest.raises(ParameterError, match="not of the form"):
        parse_column_mapping("customer_id")
    with pytest.raises(ParameterError, match="unknown canonical column 'client'"):
        parse_column_mapping("client=Customer")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_orders(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory, not a file"):
        read_orders(tmp_path)


def test_unknown_file_type(tmp_path):
    path = tmp_path / "orders.json"
    path.write_text("[]")
    with pytest.raises(DataError, match="unknown file type; expected one of .csv.*.xlsx"):
        read_orders(path)


def test_truncated_gzip(tmp_path):
    whole = gzip.compress(frame_from_rows(ROWS * 500).to_csv(index=False).encode())
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match="cannot read as CSV"):
        read_orders(path)


def test_not_parquet(tmp_path):
    path = tmp_path / "orders.parquet"
    path.write_text("customer_id,order_id\n")
    with pytest.raises(DataError, match="cannot read as Parquet"):
        read_orders(path)


@pytest.mark.parametrize(
    "dropped, named, left",
    [
        (["product_id"], "product_id", "customer_id, order_id, timestamp, quantity"),
        # Order ids are optional (taken from timestamps), so the timestamp is what is missing.
        (["order_id", "timestamp"], "timestamp", "customer_id, product_id, quantity"),
    ],
)
def test_missing_required_column_is_named_with_columns_found(tmp_path, dropped, named, left):
    path = write_csv(frame_from_rows(ROWS).drop(columns=dropped), tmp_path / "orders.csv")
    with pytest.raises(DataError) as err:
        read_orders(path)
    message = str(err.value)
    assert f"missing required column '{named}'" in message
    assert f"columns found: {left};" in message


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_without_order_ids_a_customers_lines_at_one_time_are_one_order(tmp_path, suffix):
    # c1 shops twice on day 0 (morning and afternoon) and once on day 7; c2 on day 0 morning.
    rows = [("c1", "", 0, "p1"), ("c1", "", 0, "p2"), ("c2", "", 0, "p1"), ("c1", "", 7, "p3")]
    frame = frame_from_rows(rows).drop(columns="order_id")
    afternoon = pd.DataFrame(
        {
            "customer_id": ["c1"],
            "timestamp": [pd.Timestamp("2024-01-01 15:00")],
            "product_id": ["p4"],
            "quantity": [1.0],
        }
    )
    frame = pd.concat([frame, afternoon], ignore_index=True)
    path = tmp_path / f"orders.{suffix}"
    frame.to_csv(path, index=False) if suffix == "csv" else frame.to_parquet(path)
    history = load_history(path)
    orders = history.orders
    per_customer = orders.groupby("customer").size()
    c1, c2 = (list(history.customer_ids).index(c) for c in ("c1", "c2"))
    assert per_customer[c1] == 3 and per_customer[c2] == 1
    assert sorted(orders["n_lines"]) == [1, 1, 1, 2]


def test_files_without_order_ids_keep_other_customers_at_the_same_time(tmp_path):
    """The last file wins a customer's order, not every customer's order at that time."""
    columns = ["customer_id", "timestamp", "product_id"]
    first = frame_from_rows([("c1", "", 0, "p1"), ("c2", "", 0, "p1")])[columns]
    second = frame_from_rows([("c1", "", 0, "p2")])[columns]
    paths = [write_csv(first, tmp_path / "a.csv"), write_csv(second, tmp_path / "b.csv")]
    history = load_history(paths)
    bought = {
        (history.customer_ids[c], history.product_ids[p])
        for c, p in history.lines[["customer", "product"]].itertuples(index=False)
    }
    assert bought == {("c1", "p2"), ("c2", "p1")}


def test_mapped_column_absent(tmp_path):
    path = write_csv(frame_from_rows(ROWS), tmp_path / "orders.csv")
    with pytest.raises(DataError, match="column 'Client' \\(mapped to customer_id\\) not found"):
        read_orders(path, columns={"customer_id": "Client"})


def test_unparseable_timestamp_names_row_and_value(tmp_path):
    frame = frame_from_rows(ROWS).astype({"timestamp": str})
    frame.loc[2, "timestamp"] = "31/31/2024"
    path = write_csv(frame, tmp_path / "orders.csv")
    with pytest.raises(
        DataError, match=r"row 3, column 'timestamp': cannot parse timestamp '31/31/2024'"
    ):
        read_orders(path)


def test_mixed_timestamp_formats_are_parsed(tmp_path):
    frame = frame_from_rows(ROWS).astype({"timestamp": str})
    frame.loc[1, "timestamp"] = "1/2/2024 10:30"
    frame = read_orders(write_csv(frame, tmp_path / "orders.csv"))
    assert frame["timestamp"].iloc[1] == pd.Timestamp("2024-01-02 10:30")


def test_a_day_first_column_is_read_day_first_throughout(tmp_path):
    # "03/04" alone reads either way; "25/04" settles it, for every row of the column.
    frame = frame_from_rows(ROWS).astype({"timestamp": str})
    frame["timestamp"] = ["03/04/2024 10:00", "03/04/2024 10:00", "25/04/2024 08:15"]
    stamps = read_orders(write_csv(frame, tmp_path / "orders.csv"))["timestamp"]
    assert stamps.tolist() == [
        pd.Timestamp("2024-04-03 10:00"),
        pd.Timestamp("2024-04-03 10:00"),
        pd.Timestamp("2024-04-25 08:15"),
    ]
    # Month first where the column says so.
    frame["timestamp"] = ["03/04/2024", "03/04/2024", "04/25/2024"]
    stamps = read_orders(write_csv(frame, tmp_path / "orders.csv"))["timestamp"]
    assert stamps.dt.month.tolist() == [3, 3, 4]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_unix_seconds_and_milliseconds_are_read_as_times(tmp_path, suffix):
    # 1704103200 is 2024-01-01 10:00 UTC, as event logs and web shops export it.
    frame = frame_from_rows([*ROWS, ("c3", "o3", 5, "p2", 1)])
    expected = [pd.Timestamp("2024-01-01 10:00"), pd.Timestamp("2024-01-01 10:00:01")] * 2
    for values in ([1704103200, 1704103201] * 2, [1704103200000, 1704103201000] * 2):
        frame["timestamp"] = values
        path = tmp_path / f"orders{suffix}"
        frame.to_parquet(path) if suffix == ".parquet" else write_csv(frame, path)
        assert read_orders(path)["timestamp"].tolist() == expected
    # Dates written as YYYYMMDD numbers stay dates; a stray word is named where it is.
    frame["timestamp"] = ["20240131", "20240201", "20240202", "20240203"]
    stamps = read_orders(write_csv(frame, tmp_path / "dates.csv"))["timestamp"]
    assert stamps.dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-31",
        "2024-02-01",
        "2024-02-02",
        "2024-02-03",
    ]
    frame["timestamp"] = ["1704103200", "1704103201", "soon", "1704103202"]
    with pytest.raises(
        DataError, match=r"row 3, column 'timestamp': cannot parse timestamp 'soon'"
    ):
        read_orders(write_csv(frame, tmp_path / "stray.csv"))


def test_numbers_in_the_style_of_the_files_delimiter(tmp_path):
    # A ';' file from a locale that writes decimal commas and '.' between thousands ...
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id;order_id;timestamp;product_id;quantity;price\n"
        "c1;o1;2024-01-01;p1;2,5;1.234,50\n"
        "c1;o1;2024-01-01;p2;1.000;3\n"
        "c2;o2;2024-01-04;p1;4;0,99\n"
    )
    frame = read_orders(path)
    assert frame["quantity"].tolist() == [2.5, 1000.0, 4.0]
    assert frame["price"].tolist() == [1234.5, 3.0, 0.99]
    # ... a ',' file with (quoted) thousands separators ...
    path.write_text(
        "customer_id,order_id,timestamp,product_id,quantity\n"
        'c1,o1,2024-01-01,p1,"1,200"\nc2,o2,2024-01-04,p1,2.5\n'
    )
    assert read_orders(path)["quantity"].tolist() == [1200.0, 2.5]
    # ... prices written with their currency, in either style ...
    path.write_text(
        "customer_id;order_id;timestamp;product_id;price\n"
        "c1;o1;2024-01-01;p1;€ 1.234,50\nc2;o2;2024-01-04;p1;4,50 EUR\nc2;o2;2024-01-04;p2;3\n"
    )
    assert read_orders(path)["price"].tolist() == [1234.5, 4.5, 3.0]
    # ... and a column mixing the two styles is refused at the value that does not parse.
    path.write_text(
        "customer_id;order_id;timestamp;product_id;quantity\n"
        "c1;o1;2024-01-01;p1;2.5\nc2;o2;2024-01-04;p1;2,5\n"
    )
    with pytest.raises(DataError, match="row 2, column 'quantity': not a number: '2,5'"):
        read_orders(path)


def test_non_numeric_quantity(tmp_path):
    frame = frame_from_rows(ROWS).astype({"quantity": str})
    frame.loc[1, "quantity"] = "two"
    with pytest.raises(DataError, match="row 2, column 'quantity': not a number: 'two'"):
        read_orders(write_csv(frame, tmp_path / "orders.csv"))


def test_empty_file(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_orders(path)


def test_nothing_left_after_cleaning(tmp_path):
    rows = [("c1", "o1", 0, "p1", -2), ("c2", "o2", 1, "p1", 0)]
    path = write_csv(frame_from_rows(rows), tmp_path / "orders.csv")
    with pytest.raises(
        DataError, match="no purchase lines left after cleaning.*returns 1.*zero quantity 1"
    ):
        load_history(path)


def test_cp1252_file_is_read(tmp_path):
    frame = frame_from_rows(ROWS)
    frame["product_name"] = ["Café crème", "Thé", "Crêpe"]
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False, encoding="cp1252")
    history = load_history(path)
    # p1 was last seen as "Crêpe": the latest name of a product wins.
    assert sorted(history.product_names) == ["Crêpe", "Thé"]


@pytest.mark.parametrize("column", ["customer_id", "order_id", "product_id"])
def test_ids_are_stripped_so_duplicates_merge(tmp_path, column):
    frame = frame_from_rows([("c1", "o1", 0, "p1"), ("c1", "o1", 0, "p1")])
    frame.loc[1, column] = f"{frame.loc[1, column]}  "
    history = load_history(write_csv(frame, tmp_path / "orders.csv"))
    assert history.cleaning.duplicates_merged == 1
    assert history.n_lines == 1


def test_a_workbook_as_published_reads_as_the_csv_does(tmp_path):
    # Online Retail II is published as one workbook with a sheet per year, numbers (stock
    # codes, customer ids) in number cells, dates in date cells; a notes sheet beside them.
    raw = pd.read_csv(SAMPLE, dtype=str)
    published = raw.rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    ).assign(
        StockCode=lambda f: f["StockCode"].map(lambda v: int(v) if v.isdigit() else v),
        Quantity=lambda f: f["Quantity"].astype(int),
        Price=lambda f: f["Price"].astype(float),
        InvoiceDate=lambda f: pd.to_datetime(f["InvoiceDate"]),
        **{"Customer ID": lambda f: pd.to_numeric(f["Customer ID"])},
    )
    half = len(published) // 2
    path = tmp_path / "online_retail_II.xlsx"
    with pd.ExcelWriter(path) as workbook:
        pd.DataFrame({"note": ["exported by the ERP"]}).to_excel(
            workbook, sheet_name="About", index=False
        )
        published.iloc[:half].to_excel(workbook, sheet_name="Year 2010", index=False)
        published.iloc[half:].to_excel(workbook, sheet_name="Year 2011", index=False)
    from_csv = load_history(SAMPLE, preset="online-retail")
    from_workbook = load_history(path, preset="online-retail")
    assert from_workbook.n_lines == from_csv.n_lines
    assert (from_workbook.customer_ids == from_csv.customer_ids).all()
    assert (from_workbook.product_ids == from_csv.product_ids).all()
    pd.testing.assert_frame_equal(from_workbook.lines, from_csv.lines)


def test_a_report_sheet_with_a_title_above_its_header_is_read(tmp_path):
    # As a reporting tool exports: a title, the date of the report, a blank row, the header.
    orders = frame_from_rows(ROWS)
    title = pd.DataFrame(
        [["Order lines, all customers", None], ["printed 2024-02-01", None], [None, None]]
    )
    path = tmp_path / "report.xlsx"
    with pd.ExcelWriter(path) as workbook:
        title.to_excel(workbook, sheet_name="Report", header=False, index=False)
        orders.to_excel(workbook, sheet_name="Report", startrow=3, index=False)
    frame = read_orders(path)
    assert frame["product_id"].tolist() == orders["product_id"].tolist()
    assert frame["quantity"].tolist() == [2.0, 1.0, 5.0]
    assert frame["timestamp"].iloc[2] == pd.Timestamp("2024-01-04 09:00")
    # A bad cell under that header is named by its row on the sheet (header on row 4).
    orders = orders.astype({"quantity": object})
    orders.loc[2, "quantity"] = "five"
    with pd.ExcelWriter(path) as workbook:
        title.to_excel(workbook, sheet_name="Report", header=False, index=False)
        orders.to_excel(workbook, sheet_name="Report", startrow=3, index=False)
    with pytest.raises(DataError, match="sheet 'Report': row 7, column 'quantity'"):
        read_orders(path)


def test_a_bad_cell_in_a_workbook_names_its_sheet_and_row(tmp_path):
    frame = frame_from_rows(ROWS).astype({"quantity": object})
    frame.loc[1, "quantity"] = "two"
    path = tmp_path / "orders.xlsx"
    frame.to_excel(path, sheet_name="Orders", index=False)
    # The second order line is on the sheet's row 3, under its header.
    with pytest.raises(
        DataError, match=r"orders.xlsx, sheet 'Orders': row 3, column 'quantity': not a number"
    ):
        read_orders(path)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(DataError, match="broken.xlsx: cannot read as a spreadsheet"):
        read_orders(tmp_path / "broken.xlsx")
    notes = tmp_path / "notes.xlsx"
    pd.DataFrame({"note": ["no orders here"]}).to_excel(notes, index=False)
    with pytest.raises(DataError, match="missing required column 'customer_id'"):
        read_orders(notes)


def test_several_files_are_one_history_and_a_re_exported_order_is_taken_once(tmp_path):
    # January's export, February's (another format), and a re-export correcting order o2.
    january = write_csv(frame_from_rows(ROWS), tmp_path / "2024-01.csv")
    february = tmp_path / "2024-02.parquet"
    frame_from_rows([("c3", "o3", 33, "p2", 4)]).to_parquet(february)
    fix = write_csv(frame_from_rows([("c2", "o2", 3, "p1", 3)]), tmp_path / "fix.csv")
    stored = frame_from_rows([("c1", "o1", 0, "p9", 1), ("c4", "o4", 40, "p1", 1)])
    history = load_history([january, february, fix], extra=stored)
    lines = history.lines.assign(
        customer=history.customer_ids[history.lines["customer"]],
        product=history.product_ids[history.lines["product"]],
    )
    got = sorted(zip(lines["customer"], lines["product"], lines["quantity"], strict=True))
    # o1 from January (its stored copy loses to the file), o2 from the fix alone (3 units, not
    # 5 + 3), o3 from February, o4 stored only.
    assert got == [
        ("c1", "p1", 2),
        ("c1", "p2", 1),
        ("c2", "p1", 3),
        ("c3", "p2", 4),
        ("c4", "p1", 1),
    ]
