"""The ``recsys`` command: argument parsing, logging set-up and exit codes only.

Exit codes: 0 success, 2 bad input or parameters (one line on stderr saying what and where),
1 an unexpected internal error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from recsys.exceptions import ParameterError, RecsysError

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2

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
    evaluate.set_defaults(handler=_evaluate)
    return parser


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", required=True, help="order history: .csv, .csv.gz or .parquet")
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


def _load(args: argparse.Namespace):
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
    )


def _parse_ks(text: str) -> list[int]:
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        raise ParameterError(f"--k: expected positive integers separated by commas, got '{text}'")
    return ks


def _evaluate(args: argparse.Namespace) -> int:
    from recsys.data.splitting import parse_date
    from recsys.evaluation import evaluate_methods
    from recsys.evaluation.report import format_table, write_json
    from recsys.models import BASELINES

    ks = _parse_ks(args.k)
    names = [m.strip() for m in args.methods.split(",")] if args.methods else list(BASELINES)
    unknown = [m for m in names if m not in BASELINES]
    if unknown or not names:
        raise ParameterError(
            f"--methods: unknown method '{unknown[0] if unknown else ''}'; "
            f"known: {', '.join(BASELINES)}"
        )
    cutoff = parse_date(args.cutoff, "--cutoff") if args.cutoff else None
    history = _load(args)
    result = evaluate_methods(
        history,
        {name: BASELINES[name] for name in names},
        protocol=args.protocol,
        horizon_days=args.horizon_days,
        cutoff=cutoff,
        ks=ks,
    )
    print(format_table(result))
    if args.json_out:
        write_json(result, args.json_out)
        log.info("wrote %s", args.json_out)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
