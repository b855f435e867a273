"""Service configuration from the environment, and `recsys train --ingested`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recsys.cli import main as recsys_main
from recsys.exceptions import ParameterError
from recsys.service.config import Settings
from recsys.service.store import OrderStore, StoredOrder


def test_defaults():
    settings = Settings.from_env({})
    assert settings.models_dir == Path("models")
    assert settings.orders_path == Path("models/orders.sqlite")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert not settings.auth_enabled
    assert settings.cors_origins == ()
    both = Settings.from_env({"RECSYS_CORS_ORIGINS": " https://a.example/ , http://b:8080"})
    assert both.cors_origins == ("https://a.example", "http://b:8080")


def test_keys_from_variables_and_file(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# rotated monthly\nread: r2\ningest:i2  # the ERP\n\n")
    settings = Settings.from_env(
        {"RECSYS_READ_KEYS": "r1, r3", "RECSYS_INGEST_KEYS": "i1", "RECSYS_KEYS_FILE": str(keys)}
    )
    assert settings.read_keys == {"r1", "r2", "r3"}
    assert settings.ingest_keys == {"i1", "i2"}
    assert settings.auth_enabled


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RECSYS_PORT": "eighty"}, "RECSYS_PORT: expected a number, got 'eighty'"),
        ({"RECSYS_PORT": "70000"}, "RECSYS_PORT: expected 1..65535, got 70000"),
        ({"RECSYS_RELOAD_SECONDS": "0"}, "RECSYS_RELOAD_SECONDS: expected 0.1..86400"),
        ({"RECSYS_KEYS_FILE": "/no/such/file"}, "RECSYS_KEYS_FILE /no/such/file: cannot read"),
        (
            {"RECSYS_CORS_ORIGINS": "https://shop.example.com, shop.example.com"},
            "RECSYS_CORS_ORIGINS: 'shop.example.com' is not an origin",
        ),
        (
            {"RECSYS_CORS_ORIGINS": "https://shop.example.com/basket"},
            "RECSYS_CORS_ORIGINS: 'https://shop.example.com/basket' is not an origin",
        ),
    ],
)
def test_bad_settings_say_which_and_why(env, message):
    with pytest.raises(ParameterError, match=message.replace(".", r"\.")):
        Settings.from_env(env)


def test_bad_keys_file_names_the_line(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("read:a\nadmin:b\n")
    with pytest.raises(ParameterError, match="line 2: expected 'read:KEY' or 'ingest:KEY'"):
        Settings.from_env({"RECSYS_KEYS_FILE": str(keys)})


def test_serve_refuses_bad_configuration_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("RECSYS_PORT", "eighty")
    assert recsys_main(["serve", "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["recsys serve: error: RECSYS_PORT: expected a number, got 'eighty'"]


def _store_orders(db: Path) -> None:
    store = OrderStore(db)
    day = f"2024-03-{20 + 3:02d}T10:00:00"  # after the fixture data (weeks 0..11 from Jan 1)
    store.add(
        [
            StoredOrder("s-1", "newcomer", day, (("filter", 2.0, None), ("milk", 1.0, None))),
            StoredOrder("c0-0", "c0", day, (("snack1", 1.0, None),)),  # an id the file has
        ]
    )
    store.close()


def test_train_learns_the_stored_orders_too(tmp_path, orders_csv):
    db = tmp_path / "orders.sqlite"
    _store_orders(db)
    models = tmp_path / "models"
    code = recsys_main(
        [
            "-q",
            "train",
            "--orders",
            str(orders_csv),
            "--ingested",
            str(db),
            "--models-dir",
            str(models),
            "--horizon-days",
            "7",
        ]
    )
    assert code == 0
    manifest = json.loads((models / "current" / "manifest.json").read_text())
    assert manifest["data"]["ingested_through"] == 2
    from recsys.artifacts import load_model

    model, _ = load_model(models)
    assert "newcomer" in set(model.customer_ids_)
    # c0-0 is in the file already: the file's version wins, nothing is counted twice.
    rows = sum(1 for _ in open(orders_csv)) - 1
    assert manifest["data"]["lines"] == rows + 2


def test_train_needs_an_input_that_exists(tmp_path, capsys):
    assert recsys_main(["-q", "train", "--models-dir", str(tmp_path / "m")]) == 2
    assert "give --orders FILE, --ingested DB, or both" in capsys.readouterr().err
    assert recsys_main(["-q", "train", "--ingested", str(tmp_path / "none.sqlite")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert recsys_main(["-q", "train", "--ingested", str(tmp_path)]) == 2
    assert f"--ingested {tmp_path}: is a directory, not a file" in capsys.readouterr().err
