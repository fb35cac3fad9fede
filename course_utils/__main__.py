"""Command line for instructors: ``python -m course_utils hash EXERCISE_ID ANSWER``.

Prints the hash that ``course_utils/_data/exercises.json`` stores for an
exercise's answer (see :mod:`course_utils.checks`).
"""

import argparse

from .checks import KINDS, answer_hash


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course_utils")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("hash", help="print the hash of an exercise's answer")
    make.add_argument("exercise_id")
    make.add_argument("answer")
    make.add_argument("--kind", choices=KINDS, default="number")
    make.add_argument("--decimals", type=int, default=0)
    args = parser.parse_args(argv)
    print(answer_hash(args.exercise_id, args.answer, kind=args.kind, decimals=args.decimals))


if __name__ == "__main__":
    main()
