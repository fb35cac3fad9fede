"""ILSVRC 2010-2017 in numbers: who won what, with which method, and by how much.

The results live in two CSV files shipped with the package, with a source for
every number (a key of ``book/references.bib``) and a ``verified`` column:

* ``_data/ilsvrc_results.csv`` - one row per year, task and entry: rank
  (1 = winner, 2 = runner-up, 0 = not ranked here: the human estimate, a paper's
  own result, or an entry whose place our sources do not give), team, method, top-5 classification error (%),
  localisation error (%), detection mAP (%), depth in weight layers (of the
  deepest network, for an ensemble), whether an ensemble's networks had the
  same depth (``ensemble``: ``same depth``, ``mixed depths`` or ``unknown``).
* ``_data/ilsvrc_tasks.csv`` - which tasks ran in which year, and the size of
  the classification test set where a challenge page states it
  (``test_images``: 150,000 in 2010, 100,000 in 2011 and 2012).

All errors and mAPs are in percent, as the challenge reported them. The
detection winner is the entry that won the most of the 200 categories (best
average precision in a category), every year: the 2013 FAQ says so before the
first detection task, and the results pages of 2014-2017 order entries that way.
The chapter's figures are drawn by :mod:`course_utils.history_figures`.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from . import _validate

__all__ = [
    "RESULT_COLUMNS",
    "TASKS",
    "load_results",
    "load_tasks",
    "tasks_by_year",
    "test_set_sizes",
    "winners",
]

RESULT_COLUMNS = (
    "year",
    "task",
    "rank",
    "team",
    "method",
    "top5_error",
    "loc_error",
    "det_map",
    "depth",
    "ensemble",
    "outside_data",
    "source",
    "source_detail",
    "verified",
    "note",
)
TASKS = ("classification", "localization", "detection", "human")
_METRIC = {"classification": "top5_error", "localization": "loc_error", "detection": "det_map"}


def _read_csv(name: str) -> pd.DataFrame:
    with (resources.files("course_utils") / "_data" / name).open("r", encoding="utf-8") as f:
        return pd.read_csv(f)


def load_results() -> pd.DataFrame:
    """All result rows, sorted by year, task and rank (see the module docstring for columns)."""
    results = _read_csv("ilsvrc_results.csv")
    missing = set(RESULT_COLUMNS) - set(results.columns)
    if missing:
        raise ValueError(f"ilsvrc_results.csv lacks the columns {sorted(missing)}")
    results["depth"] = results["depth"].astype("Int64")
    results["ensemble"] = results["ensemble"].fillna("")
    return results.sort_values(["year", "task", "rank"], kind="stable", ignore_index=True)


def _check_results(results) -> pd.DataFrame:
    """``results``, or the shipped table if ``None``; it must have :func:`load_results`' columns."""
    if results is None:
        return load_results()
    return _validate.table(results, "results", RESULT_COLUMNS[:11], "load_results()")  # to "source"


def load_tasks() -> pd.DataFrame:
    """One row per (year, task) that ran in the challenge, with a description and source."""
    tasks = _read_csv("ilsvrc_tasks.csv")
    tasks["test_images"] = tasks["test_images"].astype("Int64")
    return tasks


def test_set_sizes() -> pd.Series:
    """Number of classification test images by year, where a challenge page states it.

    The challenge pages give the validation and test photos together and say
    that 50,000 of them were released as the validation set: 200,000 in 2010,
    150,000 in 2011 and 2012, so 150,000 and 100,000 test images. Years whose
    page we have not checked are missing (``<NA>``), not guessed.
    """
    tasks = load_tasks()
    rows = tasks[tasks["task"] == "classification"]
    return rows.set_index("year")["test_images"].dropna()


def winners(
    task: str = "classification",
    results: pd.DataFrame | None = None,
    *,
    outside_data: bool | None = False,
) -> pd.DataFrame:
    """The winning entry (rank 1) of ``task`` for each year, with that task's metric.

    Args:
        task: ``"classification"`` (top-5 error, %), ``"localization"``
            (localisation error, %) or ``"detection"`` (mAP, %).
        results: the table of :func:`load_results` (loaded if ``None``).
        outside_data: ``False`` (default) keeps the winners' entries trained on
            the challenge's data only, which are comparable from year to year;
            ``True`` the entries that used extra data; ``None`` both.
    """
    _validate.one_of(task, "task", tuple(_METRIC))
    if outside_data is not None:
        outside_data = _validate.flag(outside_data, "outside_data")
    results = _check_results(results)
    rows = results[(results["task"] == task) & (results["rank"] == 1)]
    if outside_data is not None:
        rows = rows[rows["outside_data"] == ("yes" if outside_data else "no")]
    columns = ["year", "team", "method", _METRIC[task], "depth", "outside_data", "source"]
    return rows[columns].reset_index(drop=True)


def tasks_by_year() -> pd.DataFrame:
    """A year x task table of ticks: which tasks ran in which year."""
    tasks = load_tasks()
    table = pd.crosstab(tasks["task"], tasks["year"]).astype(bool)
    order = [
        t
        for t in (
            "classification",
            "localization",
            "fine_grained",
            "detection",
            "detection_from_video",
            "scene_classification",
            "scene_parsing",
        )
        if t in table.index
    ]
    order += [t for t in table.index if t not in order]
    return table.loc[order].replace({True: "✓", False: ""})
