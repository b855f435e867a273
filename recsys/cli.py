"""The ``recsys`` command: argument parsing, logging set-up and exit codes only.

Exit codes: 0 success, 2 bad input or parameters (one line on stderr saying what and where),
3 ``train``: trained and saved but not promoted (the promotion gate said no), 1 an unexpected
internal error.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import logging
import sys
from collections.abc import Callable, Sequence

from recsys.exceptions import ParameterError, RecsysError

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_PROMOTED = 3

log = logging.getLogger("recsys")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``recsys`` console script; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.handler(args)
    except RecsysError as exc:
        print(f"recsys {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"recsys {args.command}: interrupted", file=sys.stderr)
        return 130


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recsys", description="Product recommendation and demand anticipation."
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    evaluate = commands.add_parser(
        "evaluate",
        help="compare methods on a temporal split of an order history",
        description="Fit every method on the orders before the cutoff and measure its top-K "
        "lists against what customers bought after it.",
    )
    _add_data_arguments(evaluate)
    evaluate.add_argument("--cutoff", help="split date (default: hold out the last --horizon-days)")
    evaluate.add_argument(
        "--horizon-days", type=int, default=30, help="target window length (default 30)"
    )
    evaluate.add_argument(
        "--protocol",
        choices=("window", "next-basket"),
        default="window",
        help="target: all products bought in the window, or the first order in it",
    )
    evaluate.add_argument("--k", default="10,20", help="cut-offs of the metrics, e.g. 10,20")
    evaluate.add_argument("--methods", help="comma-separated methods (default: all)")
    evaluate.add_argument("--json", dest="json_out", help="write every metric to this JSON file")
    evaluate.add_argument(
        "--report",
        metavar="FILE.html",
        help="also write a self-contained HTML report with Recall@K curves and calibration",
    )
    evaluate.add_argument(
        "--forecast",
        action="store_true",
        help="also backtest the demand forecast over the horizon against naive forecasts",
    )
    evaluate.add_argument(
        "--forecast-windows",
        type=int,
        default=3,
        help="consecutive held-out windows of the forecast backtest, the last one from the "
        "cutoff (default 3)",
    )
    evaluate.set_defaults(handler=_evaluate)

    train = commands.add_parser(
        "train",
        help="learn the anticipation model from an order history and promote it",
        description="Fit the anticipation model on every order in the file and write it as a "
        "new version under --models-dir (models/<version>/), then point models/current at it.",
    )
    _add_data_arguments(train, required=False)
    train.add_argument(
        "--ingested",
        metavar="DB",
        help="also learn from the orders the service stored in this SQLite file "
        "(RECSYS_ORDERS_DB); an order id in both is taken from --orders",
    )
    train.add_argument(
        "--models-dir", default="models", help="where versions live (default models)"
    )
    train.add_argument(
        "--tolerance",
        type=float,
        default=0.02,
        help="promote unless recall@10 on the latest window is worse than the current "
        "model's by more than this share (default 0.02)",
    )
    train.add_argument(
        "--force", action="store_true", help="promote even if the promotion gate says no"
    )
    train.add_argument(
        "--keep",
        type=int,
        default=5,
        help="versions kept after promotion, the current and previous always (default 5)",
    )
    train.add_argument(
        "--horizon-days",
        type=int,
        default=None,
        help="window the probabilities are about (default: chosen from the data: 7, 14 or 30)",
    )
    train.set_defaults(handler=_train)

    export = commands.add_parser(
        "export",
        help="write the top-K of every customer to CSV or Parquet",
        description="Rank products for every customer (or those listed in --customers) with "
        "the promoted model and write customer_id, rank, product_id, score, probability, "
        "expected_date, expected_quantity, reason, reason_text.",
    )
    _add_customer_file_arguments(export, "give them popular products")
    export.add_argument("--k", type=int, default=10, help="items per customer (default 10)")
    export.add_argument(
        "--new-only",
        action="store_true",
        help="only products each customer has never bought (cross-sell lists)",
    )
    export.set_defaults(handler=_export)

    cycles = commands.add_parser(
        "cycles",
        help="write every customer's reorder cycles (what is due, what is overdue)",
        description="For each product each customer has bought (or those listed in "
        "--customers): purchases, first and last purchase, the usual interval and its spread, "
        "the usual quantity, when it is next due, and its status: overdue (a lapsing item, "
        "the reason to call), due (within the model's horizon), later, or once (no cycle yet).",
    )
    _add_customer_file_arguments(cycles, "leave them out")
    cycles.add_argument(
        "--status",
        help="only these statuses, comma-separated: overdue, due, later, once "
        "(e.g. --status overdue for a call list)",
    )
    cycles.set_defaults(handler=_cycles)

    forecast = commands.add_parser(
        "forecast",
        help="expected units per product over the next days, with an 80%% interval",
        description="Sum the promoted model's per-customer reorder probabilities and usual "
        "quantities, plus the recent rate of first purchases, into units per product.",
    )
    forecast.add_argument("--models-dir", default="models", help="models directory")
    forecast.add_argument("--days", type=int, required=True, help="how many days ahead")
    forecast.add_argument("--out", required=True, help="output file: .csv, .csv.gz or .parquet")
    forecast.add_argument("--as-of", help="first day (default: the last training date)")
    forecast.add_argument("--top", type=int, help="only the N most demanded products")
    forecast.set_defaults(handler=_forecast)

    models = commands.add_parser(
        "models",
        help="list, promote or roll back model versions",
        description="Manage the versions under --models-dir: which one 'current' points to.",
    )
    models.add_argument("--models-dir", default="models", help="models directory")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every version, newest last, with its data and metrics")
    promote = actions.add_parser("promote", help="make VERSION the current model")
    promote.add_argument("version")
    actions.add_parser("rollback", help="make the previously current version current again")
    models.set_defaults(handler=_models)

    serve = commands.add_parser(
        "serve",
        help="serve the promoted model over HTTP (FastAPI under uvicorn)",
        description="Start the API over models/current. Options override the RECSYS_* "
        "environment variables documented in recsys.service.config.",
    )
    serve.add_argument("--models-dir", help="models directory (RECSYS_MODELS_DIR, default models)")
    serve.add_argument("--orders-db", help="SQLite file of ingested orders (RECSYS_ORDERS_DB)")
    serve.add_argument("--host", help="address (RECSYS_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (RECSYS_PORT, default 8000)")
    serve.set_defaults(handler=_serve)
    return parser


def _add_customer_file_arguments(command: argparse.ArgumentParser, for_unknown: str) -> None:
    """The arguments every per-customer output shares."""
    command.add_argument("--models-dir", default="models", help="models directory (default models)")
    command.add_argument("--out", required=True, help="output file: .csv, .csv.gz or .parquet")
    command.add_argument("--as-of", help="the day to answer for (default: the last training date)")
    command.add_argument(
        "--customers",
        help="CSV or Parquet file of customer ids: a customer_id column, else the first",
    )
    command.add_argument(
        "--allow-unknown",
        action="store_true",
        help=f"customers unknown to the model: {for_unknown} instead of failing",
    )


def _add_data_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--orders",
        nargs="+",
        metavar="FILE",
        required=required,
        help="order history: .csv, .csv.gz, .parquet or a spreadsheet (.xlsx, .xls, .ods); "
        "several files are read as one history, an order id given twice taken from the last",
    )
    layout = parser.add_mutually_exclusive_group()
    layout.add_argument("--preset", help="named source layout, e.g. online-retail")
    layout.add_argument(
        "--columns", help="column mapping canonical=source,..., e.g. customer_id=CustomerID"
    )
    parser.add_argument(
        "--non-product-ids",
        default=None,
        help="regex of product ids that are not goods (postage, fees); '' keeps every line",
    )
    parser.add_argument(
        "--non-product-names",
        default=None,
        help="regex of product names that are not goods; '' keeps every line",
    )


def _load(args: argparse.Namespace, extra=None):
    from recsys.data import CleaningPolicy, load_history
    from recsys.data.schema import parse_column_mapping

    overrides = {
        name: (value or None)
        for name, value in (
            ("non_product_ids", args.non_product_ids),
            ("non_product_names", args.non_product_names),
        )
        if value is not None
    }
    return load_history(
        args.orders,
        preset=args.preset,
        columns=parse_column_mapping(args.columns) if args.columns else None,
        policy=CleaningPolicy.for_preset(args.preset, **overrides),
        extra=extra,
    )


def _digest(files: list[dict[str, str]]) -> str | None:
    """The data's SHA-256: one file's own, or that of several files' digests in order."""
    if len(files) < 2:
        return files[0]["sha256"] if files else None
    return hashlib.sha256("".join(f["sha256"] for f in files).encode()).hexdigest()


def _parse_ks(text: str) -> list[int]:
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        raise ParameterError(f"--k: expected positive integers separated by commas, got '{text}'")
    return ks


def _evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from recsys.data.splitting import parse_date
    from recsys.evaluation import evaluate_methods
    from recsys.evaluation.report import format_details, format_table, write_json
    from recsys.models import evaluation_methods

    ks = _parse_ks(args.k)
    if args.forecast_windows < 1:
        raise ParameterError(f"--forecast-windows must be at least 1, got {args.forecast_windows}")
    methods = evaluation_methods(args.horizon_days)
    names = [m.strip() for m in args.methods.split(",")] if args.methods else list(methods)
    unknown = [m for m in names if m not in methods]
    if unknown or not names:
        raise ParameterError(
            f"--methods: unknown method '{unknown[0] if unknown else ''}'; "
            f"known: {', '.join(methods)}"
        )
    cutoff = parse_date(args.cutoff, "--cutoff") if args.cutoff else None
    if args.report:
        from recsys.export import check_output_path

        if not args.report.lower().endswith(".html"):
            raise ParameterError(f"--report {args.report}: expected a file ending in .html")
        check_output_path(args.report.removesuffix(".html") + ".csv")  # its directory exists
    history = _load(args)
    result = evaluate_methods(
        history,
        {name: methods[name] for name in names},
        protocol=args.protocol,
        horizon_days=args.horizon_days,
        cutoff=cutoff,
        ks=ks,
        curve_k=50 if args.report else None,
    )
    print(format_table(result))
    details = format_details(result)
    if details:
        print(details)
    backtest = None
    if args.forecast:
        from recsys.evaluation.forecast_backtest import format_backtest, rolling_backtest

        backtest = rolling_backtest(
            history, pd.Timestamp(result.split["cutoff"]), args.horizon_days, args.forecast_windows
        )
        print()
        print(format_backtest(backtest))
    if args.json_out:
        write_json(result, args.json_out, forecast=backtest.to_dict() if backtest else None)
        log.info("wrote %s", args.json_out)
    if args.report:
        from recsys.evaluation.html_report import write_report

        write_report(result, args.report, backtest)
        print(f"wrote {args.report}")
    return EXIT_OK


def _train(args: argparse.Namespace) -> int:
    import time

    from recsys.artifacts import file_sha256, save_model
    from recsys.models import AnticipationModel

    if args.horizon_days is not None and args.horizon_days < 1:
        raise ParameterError(f"--horizon-days must be at least 1, got {args.horizon_days}")
    if not 0 <= args.tolerance < 1:
        raise ParameterError(f"--tolerance must be in [0, 1), got {args.tolerance}")
    if args.keep < 2:
        raise ParameterError(
            f"--keep must be at least 2 (the current and previous), got {args.keep}"
        )
    if not args.orders and not args.ingested:
        raise ParameterError("give --orders FILE, --ingested DB, or both")
    started = time.perf_counter()
    extra, ingested_through = None, None
    if args.ingested:
        from recsys.data.loading import require_file
        from recsys.service.store import OrderStore

        try:
            require_file(args.ingested)
        except RecsysError as exc:
            raise ParameterError(f"--ingested {exc}") from None
        store = OrderStore(args.ingested)
        ingested_through = store.last_seq()
        extra = store.lines()
        store.close()
        log.info("train: %s stored order lines from %s", f"{len(extra):,}", args.ingested)
    history = _load(args, extra)
    log.info(
        "train: %s lines, %s customers, %s products, %s .. %s",
        f"{history.n_lines:,}",
        f"{len(history.active_customers):,}",
        f"{history.n_products:,}",
        history.start,
        history.end,
    )
    model = AnticipationModel(horizon_days=args.horizon_days).fit(history)
    files = [{"path": f, "sha256": file_sha256(f)} for f in args.orders or []]
    manifest = {
        "data": {
            "source": ", ".join(args.orders) if args.orders else None,
            "sha256": _digest(files),
            "files": files,
            "ingested": str(args.ingested) if args.ingested else None,
            # Stored orders up to this sequence number are in the model; the service applies
            # only later ones live.
            "ingested_through": ingested_through,
            "preset": args.preset,
            "columns": args.columns,
            "first_order": str(history.start),
            "last_order": str(history.end),
            "lines": history.n_lines,
            "orders": len(history.orders),
            "customers": len(history.active_customers),
            "products": history.n_products,
            "cleaning": history.cleaning.as_dict() if history.cleaning else None,
        },
        "settings": {
            "horizon_days": model.horizon_days_,
            "target": model.target,
            "n_cutoffs": model.n_cutoffs,
            "ranker_rounds": model.ranker_.n_rounds_,
            "features": model.feature_names_,
        },
        "validation": model.validation_,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    from recsys.promotion_gate import decide

    gate_started = time.perf_counter()
    decision = decide(history, model, args.models_dir, tolerance=args.tolerance)
    promote = decision.promote or args.force
    manifest["gate"] = {**decision.as_dict(), "forced": args.force and not decision.promote}
    log.info(
        "train: gate %s in %.1fs %s",
        "passed" if decision.promote else "failed",
        time.perf_counter() - gate_started,
        decision.reasons or "",
    )
    path = save_model(model, args.models_dir, manifest, promote=promote)
    print(
        f"trained {path.name}: horizon {model.horizon_days_} days, validation "
        + ", ".join(f"{k} {v:.4f}" for k, v in model.validation_.items() if "@" in k)
    )
    if not promote:
        for reason in decision.reasons:
            print(f"not promoted: {reason}")
        print(f"saved {path}; promote it with 'recsys models promote {path.name}'")
        return EXIT_NOT_PROMOTED
    print(f"promoted {path}" + (" (forced past the gate)" if not decision.promote else ""))
    from recsys.artifacts import prune_versions

    pruned = prune_versions(args.models_dir, args.keep)
    if pruned:
        print(f"pruned {len(pruned)} old version(s): {', '.join(pruned)}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from recsys.export import export_recommendations

    def writer() -> Callable[..., int]:
        if args.k < 1:
            raise ParameterError(f"--k must be a positive integer, got {args.k}")
        return functools.partial(export_recommendations, k=args.k, new_only=args.new_only)

    return _write_per_customer(args, writer)


def _cycles(args: argparse.Namespace) -> int:
    from recsys.export import export_cycles
    from recsys.models.reorder_cycles import CYCLE_STATUSES

    def writer() -> Callable[..., int]:
        statuses = None
        if args.status is not None:
            statuses = tuple(s.strip() for s in args.status.split(",") if s.strip())
            wrong = [s for s in statuses if s not in CYCLE_STATUSES]
            if wrong or not statuses:
                raise ParameterError(
                    f"--status {args.status!r}: expected some of {', '.join(CYCLE_STATUSES)}"
                )
        return functools.partial(export_cycles, statuses=statuses)

    return _write_per_customer(args, writer)


def _write_per_customer(args: argparse.Namespace, writer: Callable[[], Callable[..., int]]) -> int:
    """What `export` and `cycles` share: check --out and --as-of, then the command's own
    arguments (``writer()`` returns the function that writes), read --customers, load the
    model, write, and say so."""
    from recsys.artifacts import load_model
    from recsys.data.splitting import parse_date
    from recsys.export import check_output_path, read_customer_ids

    out = check_output_path(args.out)
    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    write = writer()
    ids = read_customer_ids(args.customers) if args.customers else None
    model, manifest = load_model(args.models_dir)
    rows = write(model, out, as_of=as_of, customer_ids=ids, allow_unknown=args.allow_unknown)
    print(f"wrote {rows:,} rows to {out} (model {manifest['version']})")
    return EXIT_OK


def _forecast(args: argparse.Namespace) -> int:
    from recsys.artifacts import load_model
    from recsys.data.splitting import parse_date
    from recsys.export import check_output_path, write_table
    from recsys.models.demand import forecast_demand

    out = check_output_path(args.out)
    if not 1 <= args.days <= 365:
        raise ParameterError(f"--days must be 1..365, got {args.days}")
    if args.top is not None and args.top < 1:
        raise ParameterError(f"--top must be a positive integer, got {args.top}")
    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    model, manifest = load_model(args.models_dir)
    table = forecast_demand(model, args.days, as_of=as_of, top=args.top)
    write_table(table, out)
    print(f"wrote {len(table):,} products to {out} (model {manifest['version']})")
    return EXIT_OK


def _models(args: argparse.Namespace) -> int:
    from recsys.artifacts import (
        current_version,
        list_versions,
        previous_version,
        promote_version,
        read_manifest,
    )
    from recsys.exceptions import ArtifactError

    models_dir = args.models_dir
    if args.action == "promote":
        promote_version(models_dir, args.version)
        print(f"current: {args.version}")
        return EXIT_OK
    if args.action == "rollback":
        previous = previous_version(models_dir)
        if previous is None:
            raise ParameterError(f"{models_dir}: no previous version to roll back to")
        promote_version(models_dir, previous, action="rollback")
        print(f"current: {previous}")
        return EXIT_OK
    current, previous = current_version(models_dir), previous_version(models_dir)
    print(f"{'':2}{'version':<29}{'created':<27}{'last order':<21}{'lines':>10}{'recall@10':>11}")
    for version in list_versions(models_dir):
        try:
            manifest = read_manifest(f"{models_dir}/{version}")
        except ArtifactError as exc:
            print(f"! {version:<29}{exc}")
            continue
        data = manifest.get("data", {})
        recall = manifest.get("validation", {}).get("recall@10")
        mark = "*" if version == current else "<" if version == previous else " "
        print(
            f"{mark} {version:<29}{manifest.get('created', ''):<27}"
            f"{str(data.get('last_order', ''))[:19]:<21}{data.get('lines', 0):>10,}"
            f"{'' if recall is None else f'{recall:.4f}':>11}"
        )
    print("(* current, < previous: what 'recsys models rollback' restores)")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    import dataclasses
    from pathlib import Path

    import uvicorn

    from recsys.service.app import create_app
    from recsys.service.config import Settings

    settings = Settings.from_env()
    overrides = {
        "models_dir": Path(args.models_dir) if args.models_dir else None,
        "orders_db": Path(args.orders_db) if args.orders_db else None,
        "host": args.host,
        "port": args.port,
    }
    settings = dataclasses.replace(
        settings, **{k: v for k, v in overrides.items() if v is not None}
    )
    if not 1 <= settings.port <= 65535:
        raise ParameterError(f"--port must be 1..65535, got {settings.port}")
    from recsys.service.store import OrderStore

    OrderStore(settings.orders_path).close()  # a bad database path fails here, in one line
    print(f"serving on http://{settings.host}:{settings.port} (API docs at /docs)")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning" if args.quiet else "info",
        access_log=False,
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
