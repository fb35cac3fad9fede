"""Command line for instructors: ``python -m course_utils add|hash ...``.

``add`` checks an exercise and writes its record, with the hashes of its answer,
into ``course_utils/_data/exercises.json``::

    python -m course_utils add timeline-9 10.9000 --decimals 1 \\
        --question "By how many points ...?" --hint "Subtract ..."

A number must be given with at least three more decimals than the record asks
of students (``10.9000`` if 10.9 is exact), so that students who give more
decimals can be checked (see :mod:`course_utils.checks`).

``hash`` prints the hash of one answer written with exactly ``--decimals``
decimals; it refuses an answer with more decimals rather than rounding it.
Mistakes are reported as messages, not tracebacks.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path

from .checks import EXTRA_DECIMALS, _parse_number, answer_hash, record_hashes

EXERCISES = Path(__file__).resolve().parent / "_data" / "exercises.json"
ANSWER_KINDS = ("number", "integer", "text")


def _answer(parser: argparse.ArgumentParser, text: str, kind: str) -> Decimal | str:
    if kind == "text":
        if not text.strip():
            parser.error("ANSWER must not be empty")
        return text
    try:
        value = _parse_number(text)
    except (TypeError, ValueError) as error:
        parser.error(f"ANSWER: {error}")
    if kind == "integer" and value != value.to_integral_value():
        parser.error(f"ANSWER {text} is not a whole number, and --kind is integer")
    return value


def _decimals_of(value: Decimal) -> int:
    return max(0, -value.as_tuple().exponent)


def _hash(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    value = _answer(parser, args.answer, args.kind)
    decimals = 0 if args.kind == "integer" else args.decimals
    if args.kind != "text" and _decimals_of(value) > decimals:
        parser.error(
            f"ANSWER {args.answer} has {_decimals_of(value)} decimals but --decimals is "
            f"{decimals}: round it yourself, or use 'add', which keeps the extra decimals"
        )
    print(answer_hash(args.exercise_id, value, kind=args.kind, decimals=decimals))


def _add(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    value = _answer(parser, args.answer, args.kind)
    decimals = 0 if args.kind == "integer" else args.decimals
    needed = decimals + EXTRA_DECIMALS
    if args.kind == "number" and _decimals_of(value) < needed:
        parser.error(
            f"ANSWER {args.answer}: give it with at least {needed} decimals (trailing zeros "
            f"if it is exact, e.g. {value:.{needed}f}), so that students who give more than "
            f"{decimals} can be checked"
        )
    if args.unit == "fraction" and not 0 <= value <= 1:
        parser.error(f"ANSWER {args.answer} is not between 0 and 1, and --unit is fraction")
    path = Path(args.file)
    try:
        exercises = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        parser.error(f"cannot read {path}: {error}")
    if args.exercise_id in exercises and not args.replace:
        parser.error(f"{args.exercise_id} already exists in {path} (use --replace to change it)")
    record = {"question": args.question, "kind": args.kind}
    if args.kind == "number":
        record["decimals"] = decimals
    if args.unit:
        record["unit"] = args.unit
    record["hint"] = args.hint
    record.update(record_hashes(args.exercise_id, value, kind=args.kind, decimals=decimals))
    exercises[args.exercise_id] = record
    path.write_text(json.dumps(exercises, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.exercise_id} written to {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course_utils")
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {}
    for name, helptext in (
        ("hash", "print the hash of an answer written with exactly --decimals decimals"),
        ("add", "check an exercise and write its record into exercises.json"),
    ):
        command = sub.add_parser(name, help=helptext)
        command.add_argument("exercise_id")
        command.add_argument("answer")
        command.add_argument("--kind", choices=ANSWER_KINDS, default="number")
        command.add_argument("--decimals", type=int, default=0)
        commands[name] = command
    commands["add"].add_argument("--question", required=True)
    commands["add"].add_argument("--hint", required=True)
    commands["add"].add_argument("--unit", choices=("fraction",))
    commands["add"].add_argument("--file", default=str(EXERCISES))
    commands["add"].add_argument("--replace", action="store_true")
    args = parser.parse_args(argv)
    command = commands[args.command]
    if args.decimals < 0:
        command.error(f"--decimals must be 0 or more, got {args.decimals}")
    if args.kind != "number" and args.decimals:
        command.error(f"--decimals applies to --kind number only, not {args.kind}")
    (_hash if args.command == "hash" else _add)(command, args)


if __name__ == "__main__":
    main(sys.argv[1:])
