import pandas as pd

from recsys.data import CleaningPolicy, clean, load_history
from tests.helpers import SAMPLE, frame_from_rows


def test_each_rule_is_counted_and_applied():
    frame = frame_from_rows(
        [
            ("c1", "o1", 0, "p1", 2),
            ("c1", "o1", 0, "p1", 3),  # duplicate line: merged into 5
            ("c1", "C9", 1, "p1", -1),  # cancelled order
            ("c1", "o2", 2, "p2", -4),  # return
            ("c1", "o3", 3, "p3", 0),  # zero quantity
            ("c2", "o4", 4, "POST", 1),  # postage
            ("c2", "o4", 4, "p2", 1),
        ]
    )
    frame.loc[len(frame)] = [pd.NA, "o5", pd.Timestamp("2024-01-06"), "p1", 1.0]
    kept, report = clean(frame, CleaningPolicy(cancelled_order_pattern="C"))
    assert report.lines_read == 8
    assert report.missing_customer == 1
    assert report.cancelled_orders == 1
    assert report.returns == 1
    assert report.zero_quantity == 1
    assert report.non_product == 1
    assert report.duplicates_merged == 1
    assert report.lines_kept == len(kept) == 2
    merged = kept[(kept.customer_id == "c1") & (kept.product_id == "p1")]
    assert merged["quantity"].tolist() == [5.0]


def test_non_product_rule_by_name_and_switch_off():
    frame = frame_from_rows([("c1", "o1", 0, "X1"), ("c1", "o1", 0, "p2")])
    frame["product_name"] = ["Bank Charges", "Mug"]
    _, report = clean(frame)
    assert report.non_product == 1
    _, report = clean(frame, CleaningPolicy(non_product_ids=None, non_product_names=None))
    assert report.non_product == 0


def test_missing_quantity_column_counts_one_unit():
    frame = frame_from_rows([("c1", "o1", 0, "p1")]).drop(columns="quantity")
    kept, _ = clean(frame)
    assert kept["quantity"].tolist() == [1.0]


def test_sample_cleaning_report_matches_the_raw_file():
    raw = pd.read_csv(SAMPLE, dtype=str)
    history = load_history(SAMPLE, preset="online-retail")
    report = history.cleaning
    assert report.lines_read == len(raw)
    assert report.missing_customer == raw["CustomerID"].isna().sum()
    with_customer = raw[raw["CustomerID"].notna()]
    assert report.cancelled_orders == with_customer["InvoiceNo"].str.match("[CA]").sum()
    # Whatever is kept is a positive-quantity purchase of a real product.
    assert (history.lines["quantity"] > 0).all()
    assert not set(history.product_ids) & {"POST", "DOT", "M", "BANK CHARGES"}


def test_a_purchase_undone_by_a_later_cancellation_or_return_of_its_units_is_dropped():
    frame = frame_from_rows(
        [
            ("c1", "o1", 0, "p1", 5),  # cancelled below, all 5 units
            ("c1", "C1", 1, "p1", -5),
            ("c1", "o2", 2, "p2", 4),  # only 1 of its 4 units returned: a purchase still
            ("c1", "o3", 3, "p2", -1),
            ("c2", "C2", 0, "p3", -2),  # the cancellation comes before the purchase
            ("c2", "o4", 1, "p3", 2),
            ("c3", "o5", 0, "p1", 5),  # another customer's cancellation does not undo it
            ("c1", "o6", 4, "p4", 3),  # two purchases of 3: the return undoes the later one
            ("c1", "o7", 6, "p4", 3),
            ("c1", "o8", 7, "p4", -3),
        ]
    )
    kept, report = clean(frame, CleaningPolicy(cancelled_order_pattern="C"))
    assert report.reversed_purchases == 2
    assert sorted(zip(kept.customer_id, kept.order_id, strict=True)) == [
        ("c1", "o2"),
        ("c1", "o6"),
        ("c2", "o4"),
        ("c3", "o5"),
    ]


def test_reversed_purchases_in_the_sample_are_exact_matches():
    raw = pd.read_csv(SAMPLE, dtype={"CustomerID": str, "StockCode": str, "InvoiceNo": str})
    raw = raw[raw["CustomerID"].notna()]
    raw = raw.assign(t=pd.to_datetime(raw["InvoiceDate"], format="mixed"))
    undoing = raw["InvoiceNo"].str.match("[CA]") | (raw["Quantity"] < 0)
    bought = raw[~undoing & (raw["Quantity"] > 0)]
    # Counted the slow way: each cancellation or return takes the latest earlier purchase of
    # the same customer, product and units.
    reversed_rows = set()
    for line in raw[undoing].itertuples():
        same = bought[
            (bought["CustomerID"] == line.CustomerID)
            & (bought["StockCode"] == line.StockCode)
            & (bought["Quantity"] == -line.Quantity)
            & (bought["t"] <= line.t)
        ]
        if len(same):
            reversed_rows.add(same.index[same["t"] == same["t"].max()][-1])
    history = load_history(SAMPLE, preset="online-retail")
    assert len(reversed_rows) > 0
    assert history.cleaning.reversed_purchases == len(reversed_rows)
