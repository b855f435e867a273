"""The real `recsys train` and `recsys export` on the bundled sample, and their bad inputs."""

import os

import pandas as pd
import pytest

from recsys.export import COLUMNS, CYCLE_COLUMNS
from tests.helpers import SAMPLE, fortnightly_rows, frame_from_rows, write_csv
from tests.test_cli import run


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("models")
    proc = run(
        "train", "--orders", str(SAMPLE), "--preset", "online-retail", "--models-dir", str(path)
    )
    assert proc.returncode == 0, proc.stderr
    assert "promoted" in proc.stdout
    return path


def test_train_writes_a_complete_promoted_version(models_dir):
    current = models_dir / os.readlink(models_dir / "current")
    manifest = pd.read_json(current / "manifest.json", typ="series")
    assert manifest["settings"]["horizon_days"] == 30  # a monthly B2B buyer
    assert manifest["data"]["customers"] > 300
    assert manifest["validation"]["recall@10"] > 0
    assert len(manifest["data"]["sha256"]) == 64


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_every_customer(models_dir, tmp_path, suffix):
    out = tmp_path / f"recs{suffix}"
    proc = run("export", "--models-dir", str(models_dir), "--k", "7", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = (
        pd.read_csv(out, dtype={"customer_id": str, "product_id": str})
        if suffix == ".csv"
        else pd.read_parquet(out)
    )
    assert list(table.columns) == list(COLUMNS)
    raw = pd.read_csv(SAMPLE, dtype=str)
    assert set(table["customer_id"]) <= set(raw["CustomerID"].dropna())
    assert set(table["product_id"]) <= set(raw["StockCode"])
    per_customer = table.groupby("customer_id")["rank"].agg(["min", "max", "size"])
    assert (per_customer["min"] == 1).all() and (per_customer["size"] == 7).all()
    assert table["probability"].between(0, 1).all()
    assert set(table["reason"]) <= {"due", "overdue", "bought_with", "similar_customers", "popular"}
    assert table["reason_text"].str.len().gt(0).all()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_listed_customers_with_as_of(models_dir, tmp_path, suffix):
    ids = tmp_path / f"ids{suffix}"
    if suffix == ".csv":
        ids.write_text("customer_id\n12398\n12390\n")
    else:  # as a job might write it: numeric ids, under another name, a duplicate
        pd.DataFrame({"account": [12398, 12390, 12398]}).to_parquet(ids)
    out = tmp_path / "some.csv"
    proc = run(
        "export",
        "--models-dir",
        str(models_dir),
        "--k",
        "3",
        "--out",
        str(out),
        "--customers",
        str(ids),
        "--as-of",
        "2011-12-20",
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out, dtype={"customer_id": str})
    assert sorted(set(table["customer_id"])) == ["12390", "12398"]
    assert len(table) == 6


def test_export_new_only_leaves_out_what_each_customer_bought(models_dir, tmp_path):
    out = tmp_path / "cross-sell.csv"
    proc = run(
        "export", "--models-dir", str(models_dir), "--k", "5", "--out", str(out), "--new-only"
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out, dtype={"customer_id": str, "product_id": str})
    raw = pd.read_csv(SAMPLE, dtype={"CustomerID": str, "StockCode": str})
    # Bought: more units ordered than cancelled (a purchase undone is no purchase).
    net = raw.groupby(["CustomerID", "StockCode"])["Quantity"].sum()
    bought = net[net > 0].reset_index()[["CustomerID", "StockCode"]]
    pairs = table.merge(bought, left_on=["customer_id", "product_id"], right_on=list(bought))
    assert len(table) > 1000 and pairs.empty
    assert set(table["reason"]) <= {"bought_with", "similar_customers", "popular"}


def test_cycles_lists_every_bought_product_and_filters_a_call_list(models_dir, tmp_path):
    out = tmp_path / "cycles.csv"
    proc = run("cycles", "--models-dir", str(models_dir), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(
        out, dtype={"customer_id": str, "product_id": str}, parse_dates=["next_due"]
    )
    assert list(table.columns) == list(CYCLE_COLUMNS)
    raw = pd.read_csv(SAMPLE, dtype={"CustomerID": str, "StockCode": str})
    bought = raw[raw["Quantity"] > 0].groupby(["CustomerID", "StockCode"])["InvoiceNo"].nunique()
    pairs = table.set_index(["customer_id", "product_id"])
    assert pairs.index.is_unique and pairs.index.isin(bought.index).all()
    # Purchases are counted from the orders, at most the orders holding the product.
    assert (pairs["purchases"] <= bought.reindex(pairs.index)).all()
    cycle = table.dropna(subset=["interval_days"])
    assert set(table["status"]) == {"overdue", "due", "later", "once"}
    assert table.loc[table["status"] == "once", "interval_days"].isna().all()
    # One usual interval after the last purchase (its time of day may carry it a day on).
    late = cycle["next_due"] - pd.to_datetime(cycle["last_purchase"])
    off = late - pd.to_timedelta(cycle["interval_days"], "D")
    assert off.between(pd.Timedelta(days=-1), pd.Timedelta(days=1)).all()

    calls = tmp_path / "calls.parquet"
    proc = run(
        "cycles", "--models-dir", str(models_dir), "--out", str(calls), "--status", "overdue"
    )
    assert proc.returncode == 0, proc.stderr
    overdue = pd.read_parquet(calls)
    assert len(overdue) == (table["status"] == "overdue").sum() > 0
    assert (overdue["status"] == "overdue").all()
    bad = run("cycles", "--models-dir", str(models_dir), "--out", str(out), "--status", "late")
    assert bad.returncode == 2 and "expected some of overdue, due, later, once" in bad.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--k", "0"], "--k must be a positive integer"),
        (["--as-of", "2001-01-01"], "is before the last order"),
        (["--as-of", "tomorrowish"], "cannot parse 'tomorrowish'"),
        (["--customers", "IDS"], "unknown to the model"),
        (["--customers", "missing.csv"], "no such file"),
        (["--customers", "."], ".: is a directory, not a file"),
        (["--customers", "ids.parquet"], "ids.parquet: cannot read customer ids as Parquet"),
        (["--out-override", "x.xlsx"], "expected a file ending in"),
    ],
)
def test_export_bad_input_writes_nothing(models_dir, tmp_path, args, message):
    ids = tmp_path / "ids.csv"
    ids.write_text("customer_id\n12398\nNOBODY\n")
    (tmp_path / "ids.parquet").write_text("customer_id\n12398\n")  # not Parquet inside
    out = tmp_path / "out.csv"
    if args[0] == "--out-override":
        out = tmp_path / args[1]
        args = []
    args = [str(ids) if a == "IDS" else a for a in args]
    proc = run("export", "--models-dir", str(models_dir), "--out", str(out), *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_export_without_a_model(tmp_path):
    proc = run("export", "--models-dir", str(tmp_path), "--out", str(tmp_path / "o.csv"))
    assert proc.returncode == 2 and "recsys train" in proc.stderr


def test_train_bad_input_writes_nothing(tmp_path):
    empty = write_csv(frame_from_rows([("c1", "o1", 0, "p1", -1)]), tmp_path / "returns.csv")
    alone = [r for r in fortnightly_rows(weeks=10) if r[0] == "c0"]
    one_customer = write_csv(frame_from_rows(alone), tmp_path / "one-customer.csv")
    for args, message in [
        (["--orders", str(empty)], "no purchase lines left"),
        (["--orders", str(one_customer)], "need two or more customers who order both before"),
        (
            ["--orders", str(SAMPLE), "--preset", "online-retail", "--horizon-days", "0"],
            "at least 1",
        ),
        (["--orders", str(tmp_path / "none.csv")], "no such file"),
    ]:
        proc = run("train", *args, "--models-dir", str(tmp_path / "models"))
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_a_shop_of_one_or_two_products_trains_exports_and_evaluates(tmp_path):
    # Every buyer buys the one product, so the ranker learns from a single label; with two
    # products every list is shorter than the k asked for.
    rows = fortnightly_rows(n_customers=30, weeks=10)
    milk = write_csv(frame_from_rows([r for r in rows if r[3] == "milk"]), tmp_path / "milk.csv")
    models, out = tmp_path / "models", tmp_path / "recs.csv"
    proc = run("-q", "train", "--orders", str(milk), "--models-dir", str(models))
    assert proc.returncode == 0, proc.stderr
    assert run("export", "--models-dir", str(models), "--out", str(out)).returncode == 0
    recs = pd.read_csv(out, dtype={"customer_id": str})
    assert len(recs) == 30 and (recs["product_id"] == "milk").all()
    assert recs["probability"].between(0, 1).all()
    two = [r for r in rows if r[3] in ("milk", "filter")]
    both = write_csv(frame_from_rows(two), tmp_path / "two.csv")
    result = tmp_path / "result.json"
    args = ["--horizon-days", "7", "--k", "10", "--json", str(result)]
    proc = run("-q", "evaluate", "--orders", str(both), *args)
    assert proc.returncode == 0, proc.stderr
    metrics = pd.read_json(result, typ="series")["methods"]["anticipate"]["metrics"]
    assert 0 < metrics["ndcg@10"] <= 1 and metrics["recall@10"] > 0.9


def test_train_on_several_files_records_each_in_the_manifest(tmp_path):
    from recsys.artifacts import file_sha256

    rows = fortnightly_rows(weeks=10)
    old = write_csv(frame_from_rows([r for r in rows if r[2] < 35]), tmp_path / "old.csv")
    new = write_csv(frame_from_rows([r for r in rows if r[2] >= 28]), tmp_path / "new.csv")
    models = tmp_path / "models"
    proc = run("-q", "train", "--orders", str(old), str(new), "--models-dir", str(models))
    assert proc.returncode == 0, proc.stderr
    data = pd.read_json(models / "current" / "manifest.json", typ="series")["data"]
    assert [f["path"] for f in data["files"]] == [str(old), str(new)]
    assert [f["sha256"] for f in data["files"]] == [file_sha256(old), file_sha256(new)]
    assert len(data["sha256"]) == 64 and data["sha256"] not in (file_sha256(old), file_sha256(new))
    # The week both files hold is taken once, from the later file: no line to merge.
    assert data["cleaning"]["lines_read"] == data["cleaning"]["lines_kept"] == len(rows)
    assert data["cleaning"]["duplicates_merged"] == 0
    other = tmp_path / "other-models"
    bad = run("train", "--orders", str(old), str(tmp_path / "none.csv"), "--models-dir", str(other))
    assert bad.returncode == 2 and "none.csv: no such file" in bad.stderr
    assert not other.exists()


def test_forecast_writes_units_per_product_and_refuses_bad_days(tmp_path, models_dir):
    out = tmp_path / "forecast.csv"
    result = run("forecast", "--models-dir", str(models_dir), "--days", "14", "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert list(table.columns[:5]) == ["product_id", "name", "expected_units", "low_80", "high_80"]
    assert (table["expected_units"] > 0).all()
    bad = tmp_path / "bad.csv"
    result = run("forecast", "--models-dir", str(models_dir), "--days", "0", "--out", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == "recsys forecast: error: --days must be 1..365, got 0"
    assert not bad.exists()
