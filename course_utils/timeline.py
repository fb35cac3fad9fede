"""ILSVRC 2010-2017 in numbers: who won what, with which method, and by how much.

The results live in two CSV files shipped with the package, with a source for
every number (a key of ``book/references.bib``) and a ``verified`` column:

* ``_data/ilsvrc_results.csv`` - one row per year, task and entry: rank
  (1 = winner, 2 = runner-up, 0 = not a ranked entry, e.g. the human estimate
  or a paper's own result), team, method, top-5 classification error (%),
  localization error (%), detection mAP (%), depth in weight layers.
* ``_data/ilsvrc_tasks.csv`` - which tasks ran in which year, and the size of
  the classification test set where a challenge page states it
  (``test_images``: 150,000 in 2010, 100,000 in 2011 and 2012).

All errors and mAPs are in percent, as the challenge reported them.
"""

from __future__ import annotations

from importlib import resources

import matplotlib.pyplot as plt
import pandas as pd

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
    return results.sort_values(["year", "task", "rank"], kind="stable", ignore_index=True)


def _check_results(results) -> pd.DataFrame:
    """``results``, or the shipped table if ``None``; it must have :func:`load_results`' columns."""
    if results is None:
        return load_results()
    if not isinstance(results, pd.DataFrame):
        raise TypeError(
            f"results must be the table of load_results() or None, got {type(results).__name__}"
        )
    missing = sorted(set(RESULT_COLUMNS[:11]) - set(results.columns))  # up to "source"
    if missing:
        raise ValueError(f"results must have the columns of load_results(); it lacks {missing}")
    if results.empty:
        raise ValueError("results must not be empty")
    return results


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
            (localization error, %) or ``"detection"`` (mAP, %).
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
    with extra training data where it had one (diamond), the runner-up
    (hollow circle), and the human estimate (dashed line).
    Bottom panel: depth of the winning network in weight layers (log scale),
    where it is one well-defined network.
    """
    results = _check_results(results)
    cls = results[results["task"] == "classification"]
    first = winners("classification", results)
    if first.empty:
        raise ValueError("results must hold classification winners (rank 1) to plot")
    extra = winners("classification", results, outside_data=True)
    second = cls[cls["rank"] == 2]
    human = results[results["task"] == "human"]

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    top.plot(
        first["year"],
        first["top5_error"],
        "o-",
        color=COLORS["blue"],
        lw=2,
        ms=7,
        label="winner",
        zorder=3,
    )
    top.plot(
        extra["year"],
        extra["top5_error"],
        "D",
        color=COLORS["purple"],
        ms=6,
        label="winner, with extra training data",
    )
    top.plot(
        second["year"],
        second["top5_error"],
        "o",
        mfc="white",
        mec=COLORS["orange"],
        mew=2,
        ms=7,
        label="runner-up",
    )
    for _, row in first.iterrows():
        top.annotate(
            f"{row['team']}\n{row['top5_error']:g}%",
            (row["year"], row["top5_error"]),
            textcoords="offset points",
            xytext=(0, -10) if row["top5_error"] >= 8 else (0, 10),
            ha="center",
            va="top" if row["top5_error"] >= 8 else "bottom",
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
    top.set_ylabel("top-5 error (%)")
    top.set_ylim(0, max(cls["top5_error"].max(), 1) * 1.25)
    top.set_title("ILSVRC image classification: top-5 error of the winners")
    top.legend(loc="upper right")

    deep = first.dropna(subset=["depth"])
    bottom.bar(deep["year"], deep["depth"].astype(float), color=COLORS["sky"], width=0.6)
    for _, row in deep.iterrows():
        bottom.annotate(
            f"{int(row['depth'])}",
            (row["year"], float(row["depth"])),
            textcoords="offset points",
            xytext=(0, 2),
            ha="center",
            fontsize=8,
        )
    for year in sorted(set(first["year"]) - set(deep["year"])):
        note = "not a CNN" if year < 2012 else "ensemble of\nmixed depths"
        bottom.text(year, 1.3, note, ha="center", va="bottom", fontsize=7, color=COLORS["grey"])
    bottom.set_yscale("log")
    bottom.set_ylim(1, 1000)
    bottom.set_ylabel("depth of winner\n(weight layers)")
    bottom.set_xlabel("year")
    bottom.set_xticks(sorted(cls["year"].unique()))
    fig.tight_layout()
    return fig
