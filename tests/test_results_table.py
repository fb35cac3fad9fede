"""The shipped results table guarded against pasted notes and against two roundings of one number.

Independent of ``course_utils.timeline``: the CSV is read with the standard library.
"""

import csv
import re
from importlib import resources

import pytest

QUOTE = re.compile(r"'([^']{12,})'")  # a quotation from a source, as the notes write them
FRACTION = re.compile(r"\b0\.\d{4,6}\b")  # a score as the results pages print it (0.15315)
METRIC = {"classification": "top5_error", "localization": "loc_error", "detection": "det_map"}


def _rows():
    path = resources.files("course_utils") / "_data" / "ilsvrc_results.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


ROWS = _rows()


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_no_note_repeats_a_quotation_about_another_team():
    # The 2012 ISI row once ended with SuperVision's "'five similar CNNs'" (pasted text).
    quotes = {}
    for row in ROWS:
        for quote in QUOTE.findall(row["note"] + " " + row["source_detail"]):
            quotes.setdefault(quote, set()).add(row["team"])
    shared = {quote: teams for quote, teams in quotes.items() if len(teams) > 1}
    assert not shared, shared


def test_a_pasted_note_is_caught():
    isi = next(r for r in ROWS if r["year"] == "2012" and r["team"] == "ISI")
    pasted = dict(isi, note=isi["note"] + "; Krizhevsky et al. Sec. 6: 'five similar CNNs'")
    rows = [r for r in ROWS if r is not isi] + [pasted]
    quotes = {}
    for row in rows:
        for quote in QUOTE.findall(row["note"] + " " + row["source_detail"]):
            quotes.setdefault(quote, set()).add(row["team"])
    assert any(len(teams) > 1 for teams in quotes.values())


@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if r["task"] in METRIC],
    ids=lambda r: f"{r['year']}-{r['task']}-{r['team']}-{r['outside_data']}",
)
def test_the_page_score_and_the_percentage_are_one_rounding(row):
    # A score the source_detail quotes as a fraction (0.15315) must give the table's
    # percentage when rounded to the table's decimals (15.3). GoogLeNet's 6.67 (Szegedy et
    # al.) against a reported 0.06656 (6.66) is why the note, not source_detail, holds the
    # page's reported value.
    value = row[METRIC[row["task"]]]
    for fraction in FRACTION.findall(row["source_detail"]):
        if not value:
            continue
        assert round(100 * float(fraction), _decimals(value)) == pytest.approx(float(value)), (
            fraction,
            value,
        )


def test_two_roundings_are_caught():
    assert round(100 * 0.06656, 2) != 6.67  # the GoogLeNet case the test above guards


def test_one_number_per_entry_and_metric():
    # The same entry (year, task, team, outside data, method) appears once.
    keys = [(r["year"], r["task"], r["team"], r["outside_data"], r["method"]) for r in ROWS]
    assert len(keys) == len(set(keys))
