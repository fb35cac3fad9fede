"""course_utils.history_figures: what the history chapters' figures show, not how they look."""

import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from scipy import stats

from course_utils.architectures import load_degradation_histories
from course_utils.history_figures import (
    human_interval,
    plot_degradation,
    plot_networks_by_year,
    plot_top5_by_year,
)
from course_utils.timeline import load_results


def test_human_interval_against_scipy():
    # 5.1% on 1,500 images: standard error sqrt(p (1 - p) / n) = 0.57 points; the 95% interval
    # by the normal approximation, from scipy's binomial distribution's standard deviation.
    n, p = 1500, 0.051
    sd = stats.binom(n, p).std() / n
    low, high = human_interval(5.1, n)
    assert (high - low) / 2 == pytest.approx(100 * 1.96 * sd)
    assert 100 * sd == pytest.approx(0.568, abs=1e-3)
    assert round(low, 1) == 4.0 and round(high, 1) == 6.2
    # PReLU-nets' 4.94% and batch normalisation's 4.8% lie inside it; ResNet's 3.57% does not.
    assert low < 4.8 < 4.94 < high and 3.57 < low
    assert math.isclose(sum(human_interval(5.1, 10**9)) / 2, 5.1)


def test_human_interval_refuses_bad_input():
    with pytest.raises(ValueError, match="^error"):
        human_interval(120)
    with pytest.raises(ValueError, match="^sample_size"):
        human_interval(5.1, 0)


def test_top5_figure_draws_the_table():
    results = load_results()
    fig = plot_top5_by_year(results)
    top, bottom = fig.axes
    drawn = {
        (round(x, 2), round(y, 2))
        for line in top.get_lines()
        if line.get_linestyle() == "None"
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
    }
    winners = results[(results["task"] == "classification") & (results["rank"] == 1)]
    plain = winners[winners["outside_data"] == "no"]
    assert {(r.year, r.top5_error) for r in plain.itertuples()} <= drawn
    assert (2010, 33.65) not in drawn  # XRCE 2010: an honorable mention, not a runner-up
    band = [p for p in top.patches if "interval" in str(p.get_label())]
    assert len(band) == 1
    box = band[0].get_path().transformed(band[0].get_patch_transform()).get_extents()
    assert (box.y0, box.y1) == pytest.approx(human_interval(5.1))
    heights = {round(b.get_x() + b.get_width() / 2): b.get_height() for b in bottom.patches}
    assert heights == {2012: 8, 2014: 22, 2015: 152, 2017: 154}  # the table's depth column
    plt.close(fig)


def test_networks_figure_marks_zfnet_as_a_papers_network():
    fig = plot_networks_by_year()
    assert len(fig.axes) == 3
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert "a paper's network" in labels
    plt.close(fig)


def test_degradation_figure_draws_one_curve_per_network():
    rows = [
        {"network": n, "depth": d, "seed": s, "epoch": e, "train_loss": 1 / e,
         "train_accuracy": 0.5}
        for n in ("plain", "residual") for d in (8, 20) for s in (0, 1) for e in (1, 2, 3)
    ]  # fmt: skip
    fig = plot_degradation(pd.DataFrame(rows))
    left, right = fig.axes
    assert len(left.get_lines()) == 4  # plain-8, plain-20, residual-8, residual-20
    plt.close(fig)


def test_the_plots_refuse_a_wrong_table_before_drawing():
    histories = load_degradation_histories()
    plt.close("all")
    with pytest.raises(TypeError, match="^histories must be the table of load_degradation"):
        plot_degradation(None)
    with pytest.raises(ValueError, match=r"^histories must have the columns .* \['train_loss'\]"):
        plot_degradation(histories.drop(columns="train_loss"))
    with pytest.raises(TypeError, match="^networks must be the table of ilsvrc_networks"):
        plot_networks_by_year("table")
    with pytest.raises(TypeError, match="^results must be the table of load_results"):
        plot_top5_by_year("table")
    assert plt.get_fignums() == []
