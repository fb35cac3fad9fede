"""The figures of the history chapters (1 and 12), apart from the concepts they show.

The data and the concepts live in :mod:`course_utils.timeline` (the results
table) and :mod:`course_utils.architectures` (the networks); this module only
draws them:

* :func:`plot_top5_by_year` -- chapter 1: the winners' top-5 error by year, with
  the human estimate and its sampling interval, and the depth of the winners'
  networks.
* :func:`human_interval` -- the binomial interval drawn around the human estimate.
* :func:`plot_networks_by_year` -- chapter 13: error, depth and parameters of the
  landmark networks.
* :func:`plot_degradation` -- chapter 13: training loss of plain and residual
  networks by depth.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Patch

from . import _validate
from .architectures import ilsvrc_networks
from .plotting import COLORS
from .timeline import _check_results, load_results, winners

__all__ = ["human_interval", "plot_degradation", "plot_networks_by_year", "plot_top5_by_year"]

HUMAN_IMAGES = 1500
"""Test images the annotator A1 labelled for the 5.1% estimate (Russakovsky et al. 2015, Sec. 6.4)."""


def human_interval(
    error: float, sample_size: int = HUMAN_IMAGES, z: float = 1.96
) -> tuple[float, float]:
    """Normal-approximation interval for an error rate measured on ``sample_size`` images.

    The binomial standard error of a proportion ``p`` measured on ``n`` images
    (``sample_size``) is ``sqrt(p (1 - p) / n)``; the interval is ``p -/+ z`` standard errors
    (``z = 1.96``: about 95%). ``error`` and the result are in percent.

    >>> low, high = human_interval(5.1, 1500)
    >>> round(low, 1), round(high, 1)
    (4.0, 6.2)
    """
    error = _validate.number(error, "error", min=0, max=100)
    sample_size = _validate.integer(sample_size, "sample_size", min=1)
    z = _validate.number(z, "z", min=0)
    p = error / 100
    half = z * math.sqrt(p * (1 - p) / sample_size)
    return 100 * (p - half), 100 * (p + half)


def plot_top5_by_year(results: pd.DataFrame | None = None) -> plt.Figure:
    """Top-5 classification error of winners and runners-up by year, with network depth.

    Top panel: top-5 error (%) of each year's winner trained on the
    challenge's data only (line, labelled with the team), the winner's entry
    with extra training data where it had one (diamond, drawn beside the
    winner's point so that neither hides the other), the runner-up (hollow
    circle) and the human estimate (dashed line) with its 95% sampling
    interval (band: one annotator, 1,500 images, see :func:`human_interval`).
    Numbers not yet checked against a primary source (``verified == "no"``)
    are drawn pale and marked "?". Dotted lines mark the new test sets: the 2011 and 2012 pages announce
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
        low, high = human_interval(row["top5_error"])
        top.axhline(
            row["top5_error"],
            ls="--",
            color=COLORS["green"],
            lw=1.5,
            label=f"human estimate ({row['top5_error']:g}%, one annotator)",
        )
        top.axhspan(
            low,
            high,
            color=COLORS["green"],
            alpha=0.15,
            lw=0,
            label=f"95% interval, {HUMAN_IMAGES:,} images ({low:.1f}-{high:.1f}%)",
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


def plot_networks_by_year(networks: pd.DataFrame | None = None) -> plt.Figure:
    """Top-5 error, depth and parameters of the challenge's landmark networks, by year.

    Top: each year's winning top-5 classification error (%), from
    :func:`course_utils.timeline.winners` (entries trained on the challenge's data).
    Middle: depth in weight layers (log scale). Bottom: parameters in millions.
    Winners' networks are filled markers, the runner-up's hollow orange, and a
    paper's network that was not an entry (ZFNet, 2013) hollow grey; each point
    names its network.

    Args:
        networks: the table of ``architectures.ilsvrc_networks()`` (built if ``None``).
    """
    if networks is None:
        networks = ilsvrc_networks()
    columns = ("year", "rank", "network", "depth", "parameters")
    _validate.table(networks, "networks", columns, "ilsvrc_networks()")
    best = winners("classification", load_results())
    fig, (top, middle, bottom) = plt.subplots(3, 1, figsize=(7.5, 7.5), sharex=True)
    top.plot(best["year"], best["top5_error"], "o-", color=COLORS["blue"], lw=2)
    for _, row in best.iterrows():
        top.annotate(
            f"{row['top5_error']:g}",
            (row["year"], row["top5_error"]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    top.set_ylabel("winner's top-5\nerror (%)")
    top.set_ylim(0, best["top5_error"].max() * 1.2)
    top.set_title("ILSVRC classification: error, depth and size by year")
    for axis, column, scale in ((middle, "depth", 1), (bottom, "parameters", 1e6)):
        for rank, style, label in (
            (1, {"color": COLORS["blue"]}, "winner's network"),
            (2, {"mfc": "white", "mec": COLORS["orange"], "mew": 2}, "runner-up's network"),
            (0, {"mfc": "white", "mec": COLORS["grey"], "mew": 2}, "a paper's network"),
        ):
            rows = networks[networks["rank"] == rank]
            axis.plot(
                rows["year"],
                rows[column] / scale,
                "o",
                ms=8,
                ls="none",
                **style,
                label=label,
            )
            for _, row in rows.iterrows():
                axis.annotate(
                    row["network"],
                    (row["year"], row[column] / scale),
                    xytext=(7, -3),
                    textcoords="offset points",
                    fontsize=8,
                )
    notes = {2016: "ensemble of\nmixed\nnetworks", 2017: "SENet-154,\nnot in\ntorchvision"}
    for year in sorted(set(best["year"]) - set(networks["year"])):
        note = "hand-crafted\nfeatures" if year < 2012 else notes.get(year, "")
        for axis in (middle, bottom):
            axis.text(
                year,
                0.5,
                note,
                transform=axis.get_xaxis_transform(),
                ha="center",
                va="center",
                fontsize=7,
                color=COLORS["grey"],
            )
    middle.set_yscale("log")
    middle.set_ylim(5, 400)
    depths = sorted(networks["depth"].unique())
    middle.set_yticks(depths, [str(d) for d in depths])
    middle.minorticks_off()
    middle.set_ylabel("depth\n(weight layers)")
    middle.legend(loc="upper left", fontsize=7)
    bottom.set_ylim(0, networks["parameters"].max() / 1e6 * 1.2)
    bottom.set_ylabel("parameters\n(millions)")
    bottom.set_xlabel("year")
    bottom.set_xticks(sorted(best["year"]))
    bottom.set_xlim(best["year"].min() - 0.5, best["year"].max() + 0.5)
    fig.tight_layout()
    return fig


def plot_degradation(histories: pd.DataFrame) -> plt.Figure:
    """Training loss by epoch (left) and final training error by depth (right).

    Left: the mean over seeds of each network's training loss, plain dashed and
    residual solid, one colour per depth. Right: the training error (%) of the last
    epoch against depth, one small marker per seed and a line through the means.

    Args:
        histories: the table of ``architectures.load_degradation_histories()``.
    """
    columns = ("network", "depth", "epoch", "train_loss", "train_accuracy")
    _validate.table(histories, "histories", columns, "load_degradation_histories()")
    depths = sorted(histories["depth"].unique())
    colours = [COLORS["sky"], COLORS["blue"], COLORS["vermillion"], COLORS["green"], COLORS["grey"]]
    palette = dict(zip(depths, colours, strict=False))  # up to five depths get their own colour
    styles = {"plain": "--", "residual": "-"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    mean = histories.groupby(["network", "depth", "epoch"], as_index=False)["train_loss"].mean()
    for (network, depth), rows in mean.groupby(["network", "depth"]):
        left.plot(
            rows["epoch"],
            rows["train_loss"],
            styles[network],
            color=palette[depth],
            lw=2,
            label=f"{network}-{depth}",
        )
    left.set_yscale("log")
    ticks = [0.2, 0.3, 0.5, 1, 2]
    left.set_yticks(ticks, [f"{t:g}" for t in ticks])
    left.minorticks_off()
    left.set_xlabel("epoch")
    left.set_ylabel("training loss (nats, log scale)")
    left.set_title("Training loss, mean over seeds")
    left.legend(ncol=2, fontsize=8)
    last = histories[histories["epoch"] == histories["epoch"].max()]
    last = last.assign(train_error=100 * (1 - last["train_accuracy"]))
    for network, colour in (("plain", COLORS["orange"]), ("residual", COLORS["blue"])):
        rows = last[last["network"] == network]
        right.plot(rows["depth"], rows["train_error"], "o", color=colour, ms=4, alpha=0.6)
        means = rows.groupby("depth")["train_error"].mean()
        right.plot(
            means.index,
            means.values,
            styles[network],
            marker="o",
            color=colour,
            lw=2,
            label=network,
        )
    right.set_xscale("log")
    right.set_xticks(depths, [str(d) for d in depths])
    right.minorticks_off()
    right.set_xlabel("depth (weight layers, log scale)")
    right.set_ylabel("training error in the last epoch (%)")
    right.set_title("Deeper: better or worse?")
    right.legend()
    fig.tight_layout()
    return fig
