"""ILSVRC 2010-2017 in numbers: who won what, with which method, and by how much.

The results live in two CSV files shipped with the package, with a source for
every number (a key of ``book/references.bib``) and a ``verified`` column:

* ``_data/ilsvrc_results.csv`` - one row per year, task and entry: rank
  (1 = winner, 2 = runner-up, 0 = not a ranked entry, e.g. the human estimate
  or a paper's own result), team, method, top-5 classification error (%),
  localisation error (%), detection mAP (%), depth in weight layers (of the
  deepest network, for an ensemble), whether an ensemble's networks had the
  same depth (``ensemble``: ``same depth``, ``mixed depths`` or ``unknown``).
* ``_data/ilsvrc_tasks.csv`` - which tasks ran in which year, and the size of
  the classification test set where a challenge page states it
  (``test_images``: 150,000 in 2010, 100,000 in 2011 and 2012).

All errors and mAPs are in percent, as the challenge reported them.
"""

from __future__ import annotations

from importlib import resources

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Patch

from . import _validate
from .plotting import COLORS

__all__ = [
    "RESULT_COLUMNS",
    "TASKS",
    "load_results",
    "load_tasks",
    "plot_top5_by_year",
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


def plot_top5_by_year(results: pd.DataFrame | None = None) -> plt.Figure:
    """Top-5 classification error of winners and runners-up by year, with network depth.

    Top panel: top-5 error (%) of each year's winner trained on the
    challenge's data only (line, labelled with the team), the winner's entry
    with extra training data where it had one (diamond, drawn beside the
    winner's point so that neither hides the other), the runner-up (hollow
    circle) and the human estimate (dashed line). Numbers not yet checked
    against a primary source (``verified == "no"``) are drawn pale and marked
    "?". Dotted lines mark the new test sets: the 2011 and 2012 pages announce
    test images "collected and labeled especially for this competition"
    (150,000 in 2010, 100,000 from 2011), kept unchanged from 2012 on; a band
    marks the years in which classification was ranked within the
    classification+localisation task (2014 on).

    Bottom panel: depth in weight layers (log scale) of the deepest network in
    the winning entry. Every CNN winner was an ensemble: a solid bar where all
    its networks had that depth, a hatched bar ("up to") where they differed
    or where our sources do not say.
    """
    results = _check_results(results)
    cls = results[results["task"] == "classification"]
    first = cls[(cls["rank"] == 1) & (cls["outside_data"] == "no")]
    if first.empty:
        raise ValueError("results must hold classification winners (rank 1) to plot")
    extra = cls[(cls["rank"] == 1) & (cls["outside_data"] == "yes")]
    second = cls[cls["rank"] == 2]
    human = results[results["task"] == "human"]

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.5]}
    )
    top.plot(first["year"], first["top5_error"], "-", color=COLORS["blue"], lw=2, zorder=2)
    styles = {  # series: (rows, plot style, label)
        "winner": (first, {"marker": "o", "color": COLORS["blue"], "ms": 7}),
        "winner, with extra training data": (
            extra.assign(year=extra["year"] + 0.22),
            {"marker": "D", "color": COLORS["purple"], "ms": 6},
        ),
        "runner-up": (
            second,
            {"marker": "o", "mfc": "white", "mec": COLORS["orange"], "mew": 2, "ms": 7},
        ),
    }
    for label, (rows, style) in styles.items():
        checked = rows["verified"] == "yes"
        top.plot(
            rows["year"][checked],
            rows["top5_error"][checked],
            ls="",
            zorder=3,
            **style,
            label=label,
        )
        top.plot(
            rows["year"][~checked],
            rows["top5_error"][~checked],
            ls="",
            zorder=3,
            alpha=0.35,
            **style,
        )
        for _, row in rows[~checked].iterrows():
            top.annotate(
                "?",
                (row["year"], row["top5_error"]),
                textcoords="offset points",
                xytext=(7, 2),
                fontsize=9,
                color=COLORS["grey"],
            )
    top.plot([], [], "o", color=COLORS["grey"], alpha=0.35, label="pale, ?: not yet verified")
    for i, (_, row) in enumerate(first.iterrows()):
        low = row["top5_error"] < 8
        # above the flat end of the curve; below it and to the left where the curve
        # falls steeply, so the label stays off the line (the first one, centred, has
        # no line to its left)
        left = not low and i > 0
        top.annotate(
            f"{row['team']}\n{row['top5_error']:g}%",
            (row["year"], row["top5_error"]),
            textcoords="offset points",
            xytext=(0, 14) if low else (-5, -6) if left else (0, -10),
            ha="right" if left else "center",
            va="bottom" if low else "top",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    for _, row in human.iterrows():
        top.axhline(
            row["top5_error"],
            ls="--",
            color=COLORS["green"],
            lw=1.5,
            label=f"human estimate ({row['top5_error']:g}%)",
        )
    ceiling = max(cls["top5_error"].max(), 1) * 1.3
    changes = {  # new test images each year until 2012 (the pages), then kept
        2010.5: "new test set:\n150,000\n→ 100,000",
        2011.5: "new test set,\nkept from\n2012 on",
    }
    for boundary, label in changes.items():
        top.axvline(boundary, ls=":", color=COLORS["grey"], lw=1.2)
        top.text(boundary + 0.05, ceiling * 0.97, label, fontsize=7, va="top", color=COLORS["grey"])
    top.axvspan(2013.5, cls["year"].max() + 0.5, color=COLORS["grey"], alpha=0.07, lw=0)
    top.text(
        2013.6,
        ceiling * 0.97,
        "classification ranked within\nclassification+localisation",
        fontsize=7,
        va="top",
        color=COLORS["grey"],
    )
    top.set_ylabel("top-5 error (%)")
    top.set_ylim(0, ceiling)
    top.set_title("ILSVRC image classification: top-5 error of the winners")
    top.legend(loc="upper right", fontsize=8, bbox_to_anchor=(1, 0.8))

    deep = first.dropna(subset=["depth"])
    for _, row in deep.iterrows():
        same = row["ensemble"] == "same depth"
        bottom.bar(
            row["year"],
            float(row["depth"]),
            width=0.6,
            color=COLORS["sky"],
            hatch="" if same else "///",
            edgecolor=COLORS["blue"],
            lw=0.8,
        )
        bottom.annotate(
            f"{'' if same else 'up to '}{int(row['depth'])}",
            (row["year"], float(row["depth"])),
            textcoords="offset points",
            xytext=(0, 2),
            ha="center",
            fontsize=8,
        )
    for _, row in first[first["depth"].isna()].iterrows():
        note = {"": "not a CNN", "mixed depths": "mixed\nensemble,\ndepths not\ngiven"}.get(
            row["ensemble"], "ensemble,\ndepth not\nin sources"
        )
        bottom.text(
            row["year"], 1.3, note, ha="center", va="bottom", fontsize=7, color=COLORS["grey"]
        )
    swatches = [
        Patch(facecolor=COLORS["sky"], edgecolor=COLORS["blue"], label="all nets this deep"),
        Patch(
            facecolor=COLORS["sky"],
            edgecolor=COLORS["blue"],
            hatch="///",
            label="up to: depths differ or not given",
        ),
    ]
    bottom.legend(handles=swatches, loc="upper left", fontsize=7)
    bottom.set_yscale("log")
    bottom.set_ylim(1, 2000)
    bottom.set_ylabel("deepest net\nof the winner\n(weight layers)")
    bottom.set_xlabel("year")
    bottom.set_xticks(sorted(cls["year"].unique()))
    fig.tight_layout()
    return fig
