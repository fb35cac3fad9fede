"""Command line for instructors: ``python -m course_utils add|check|validate|hash ...``.

``add`` checks an exercise and writes its record, with the hashes of its answer,
into ``course_utils/_data/exercises.json`` of the clone it runs in::

    python -m course_utils add timeline-9 10.9000 --decimals 1 \\
        --question "By how many points ...?" --hint "Subtract ..."

``--decimals`` (how many decimals students give) is required for a number: nothing
is rounded to a default. A number must be given with at least three more decimals
than that (``10.9000`` if 10.9 is exact), so that students who give more decimals
can be checked (see :mod:`course_utils.checks`). Counts and years are ``--kind integer``.

``check`` tries an answer against a record as a student would (``cu.check``);
``validate`` checks every record of the file (fields, kinds, hashes); ``hash``
prints the hash of one answer written with exactly ``--decimals`` decimals and
refuses an answer with more decimals rather than rounding it. Mistakes are
reported as messages, not tracebacks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import filelock

from ._files import atomic_write, lock_file, locked
from .checks import (
    EXTRA_DECIMALS,
    UNITS,
    _parse_number,
    answer_hash,
    feedback_for_record,
    record_hashes,
    record_problems,
)

EXERCISES = Path(__file__).resolve().parent / "_data" / "exercises.json"
CLONE = Path(__file__).resolve().parents[1]  # the repository, when run from a clone
ANSWER_KINDS = ("number", "integer", "text")
#: Seconds an ``add`` waits for another one to finish editing the same file.
LOCK_TIMEOUT = 60.0


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


def _read(parser: argparse.ArgumentParser, path: Path) -> dict:
    try:
        exercises = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        parser.error(f"cannot read {path}: {error}")
    if not isinstance(exercises, dict):
        parser.error(f"{path} must hold one JSON object: exercise id -> record")
    return exercises


def _file(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Path:
    """The exercises file to write: --file, or the package's own inside a clone."""
    if args.file:
        return Path(args.file)
    if not (CLONE / "pyproject.toml").is_file():
        parser.error(
            f"course_utils is installed in {CLONE}, not run from a clone of the course: "
            "clone the repository, `pip install -e .` there and run this command in it, "
            "or pass --file CLONE/course_utils/_data/exercises.json"
        )
    return EXERCISES


def _repository() -> str:
    """``url@branch`` from the clone's _config.yml: where Colab's setup cell installs from."""
    config = CLONE / "_config.yml"
    text = config.read_text(encoding="utf-8") if config.is_file() else ""
    url = re.search(r"^\s+url:\s*(\S+)", text, re.MULTILINE)
    branch = re.search(r"^\s+branch:\s*(\S+)", text, re.MULTILINE)
    if not url:
        return "the repository in _config.yml"
    return f"{url.group(1)}@{branch.group(1) if branch else 'main'}"


def _hash(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    value = _answer(parser, args.answer, args.kind)
    if args.kind != "text" and _decimals_of(value) > args.decimals:
        parser.error(
            f"ANSWER {args.answer} has {_decimals_of(value)} decimals but --decimals is "
            f"{args.decimals}: round it yourself, or use 'add', which keeps the extra decimals"
        )
    print(answer_hash(args.exercise_id, value, kind=args.kind, decimals=args.decimals))


def _add(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    value = _answer(parser, args.answer, args.kind)
    needed = args.decimals + EXTRA_DECIMALS
    if args.kind == "number" and _decimals_of(value) < needed:
        parser.error(
            f"ANSWER {args.answer}: give it with at least {needed} decimals (trailing zeros "
            f"if it is exact, e.g. {value:.{needed}f}), so that students who give more than "
            f"{args.decimals} can be checked"
        )
    if args.unit == "fraction" and not 0 <= value <= 1:
        parser.error(f"ANSWER {args.answer} is not between 0 and 1, and --unit is fraction")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", args.exercise_id):
        parser.error(
            f"EXERCISE_ID {args.exercise_id!r}: use lower-case words and digits joined by "
            "hyphens, chapter first (e.g. timeline-5)"
        )
    path = _file(parser, args)
    try:
        with locked(path, timeout=LOCK_TIMEOUT):  # another `add` waits: no record is lost
            _add_record(parser, args, path, value)
    except filelock.Timeout:
        parser.error(
            f"{path} stayed locked by another `python -m course_utils add` for {LOCK_TIMEOUT:g} s; "
            f"nothing was written. If no other add is running, delete {lock_file(path)} and retry"
        )
    except OSError as error:  # the lock file cannot be created: read-only folder, ...
        parser.error(f"cannot lock {path} for writing ({error}); nothing was written")
    print(f"{args.exercise_id} written to {path}. Next:")
    print(f"  - try it as a student: python -m course_utils check {args.exercise_id} ANSWER")
    print(
        f"  - add the answer, worked out by hand with its source, to HAND_WORKED in "
        f'tests/test_checks.py ("{args.exercise_id}": ...); the tests fail until you do'
    )
    print(f'  - in the chapter: answer = None, then cu.check("{args.exercise_id}", answer)')
    print("  - its worked solution, in a dropdown, in book/solutions.md")
    print(f"  - commit and push to {_repository()}: Colab installs the course from there")


def _add_record(
    parser: argparse.ArgumentParser, args: argparse.Namespace, path: Path, value: Decimal | str
) -> None:
    """Read ``path``, add the record, write it back atomically (the caller holds the lock)."""
    exercises = _read(parser, path)
    if args.exercise_id in exercises and not args.replace:
        parser.error(f"{args.exercise_id} already exists in {path} (use --replace to change it)")
    record = {"question": args.question, "kind": args.kind}
    if args.kind == "number":
        record["decimals"] = args.decimals
    if args.unit:
        record["unit"] = args.unit
    record["hint"] = args.hint
    record.update(record_hashes(args.exercise_id, value, kind=args.kind, decimals=args.decimals))
    problems = record_problems(args.exercise_id, record)
    if problems:
        parser.error("; ".join(problems))
    exercises[args.exercise_id] = record
    text = json.dumps(exercises, indent=1, ensure_ascii=False) + "\n"
    try:
        with atomic_write(path) as f:  # a temporary file, renamed over the old one when complete
            f.write(text)
    except OSError as error:
        parser.error(
            f"cannot write {path}: {error}. The file is unchanged (the new version was written "
            f"to a temporary file, which was removed); {args.exercise_id} was not added"
        )


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    path = Path(args.file) if args.file else EXERCISES
    exercises = _read(parser, path)
    if args.exercise_id not in exercises:
        parser.error(f"{args.exercise_id} is not in {path}")
    record = exercises[args.exercise_id]
    problems = record_problems(args.exercise_id, record)
    if problems:
        parser.error("; ".join(problems))
    if record["kind"] == "function":
        parser.error(
            f"{args.exercise_id} asks for a function: try it in Python with check_function"
        )
    print(feedback_for_record(args.exercise_id, record, args.answer)[1])


def _validate_file(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    path = Path(args.file) if args.file else EXERCISES
    exercises = _read(parser, path)
    problems = [p for key, record in exercises.items() for p in record_problems(key, record)]
    if problems:
        parser.error(f"{len(problems)} problems in {path}:\n  " + "\n  ".join(problems))
    print(f"{len(exercises)} exercises in {path}: every record is complete")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils",
        description="Add and check the chapters' exercises (book/instructor_guide.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "add": sub.add_parser("add", help="check an exercise and write its record"),
        "check": sub.add_parser("check", help="try an answer as a student would"),
        "validate": sub.add_parser("validate", help="check every record of exercises.json"),
        "hash": sub.add_parser("hash", help="print the hash of an answer, written exactly"),
    }
    for name in ("add", "check", "hash"):
        commands[name].add_argument(
            "exercise_id", metavar="EXERCISE_ID", help="e.g. timeline-5 (the chapter first)"
        )
        commands[name].add_argument(
            "answer",
            metavar="ANSWER",
            help="for add: a whole number (--kind integer), a number with --decimals + 3 "
            "decimals (--kind number), or a word (--kind text)",
        )
    for name in ("add", "hash"):
        commands[name].add_argument(
            "--kind",
            choices=ANSWER_KINDS,
            default="number",
            help="integer for counts and years, text for words (default: number)",
        )
        commands[name].add_argument(
            "--decimals", type=int, help="decimals students give (required for a number)"
        )
    for name in ("add", "check", "validate"):
        commands[name].add_argument("--file", help=f"the exercises file (default: {EXERCISES})")
    commands["add"].add_argument("--question", required=True, help="as the chapter asks it")
    commands["add"].add_argument(
        "--hint", required=True, help="shown after a wrong answer; must not give it away"
    )
    commands["add"].add_argument("--unit", choices=UNITS, help="an answer between 0 and 1")
    commands["add"].add_argument("--replace", action="store_true", help="change an existing record")
    args = parser.parse_args(argv)
    command = commands[args.command]
    if args.command in ("add", "hash"):
        if args.kind == "number" and args.decimals is None:
            command.error(
                "--decimals is required with --kind number: how many decimals students give "
                "(e.g. --decimals 1 for 10.9); for a count or a year use --kind integer"
            )
        if args.kind != "number" and args.decimals:
            command.error(f"--decimals applies to --kind number only, not {args.kind}")
        args.decimals = args.decimals or 0
        if args.decimals < 0:
            command.error(f"--decimals must be 0 or more, got {args.decimals}")
    run = {"add": _add, "check": _check, "validate": _validate_file, "hash": _hash}
    run[args.command](command, args)


if __name__ == "__main__":
    main(sys.argv[1:])
