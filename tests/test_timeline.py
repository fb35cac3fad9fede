"""course_utils.timeline: the results table against the numbers in the primary sources."""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from course_utils.timeline import (
    RESULT_COLUMNS,
    load_results,
    load_tasks,
    plot_top5_by_year,
    tasks_by_year,
    winners,
)

BIB = Path(__file__).resolve().parents[1] / "book" / "references.bib"

# Top-5 classification error (%) of each year's winner trained on the challenge's
# data only, written from the sources: Krizhevsky et al. 2012 Sec. 6 (2010), the
# ILSVRC 2011/2012 results pages, Szegedy et al. 2015 Table 2 (2013, 2014),
# He et al. 2016 Table 5 (2015), Xie et al. 2017 Sec. 5.1 (2016), Hu et al. 2018 abstract (2017).
WINNERS = {
    2010: ("NEC-UIUC", 28.2),
    2011: ("XRCE", 25.8),
    2012: ("SuperVision", 16.4),
    2013: ("Clarifai", 11.7),
    2014: ("GoogLeNet", 6.7),
    2015: ("MSRA", 3.57),
    2016: ("Trimps-Soushen", 2.99),
    2017: ("WMW", 2.25),
}


@pytest.fixture(scope="module")
def results():
    return load_results()


def test_columns_and_values(results):
    assert tuple(results.columns) == RESULT_COLUMNS
    assert set(results["task"]) <= {"classification", "localization", "detection", "human"}
    assert set(results["rank"]) <= {0, 1, 2}
    assert set(results["verified"]) <= {"yes", "no"}
    assert set(results["outside_data"]) <= {"yes", "no"}
    for column in ("top5_error", "loc_error", "det_map"):
        assert results[column].dropna().between(0, 100).all()


def test_every_source_is_in_the_bibliography(results):
    keys = set(re.findall(r"^@\w+\{([^,]+),", BIB.read_text(encoding="utf-8"), flags=re.M))
    assert set(results["source"]) <= keys
    assert set(load_tasks()["source"]) <= keys


@pytest.mark.parametrize(("year", "expected"), WINNERS.items())
def test_classification_winners_match_the_sources(results, year, expected):
    table = winners("classification", results)
    row = table[table["year"] == year]
    assert len(row) == 1
    team, error = expected
    assert row["team"].item() == team
    assert row["top5_error"].item() == pytest.approx(error, abs=0.05)


def test_headline_numbers_with_extra_data(results):
    extra = winners("classification", results, outside_data=True).set_index("year")
    assert extra.loc[2012, "top5_error"] == 15.3  # Krizhevsky et al. 2012, abstract
    assert extra.loc[2013, "top5_error"] == 11.2  # Simonyan & Zisserman 2015, Sec. 4.5


def test_runner_up_2012_and_human_estimate(results):
    isi = results[(results["year"] == 2012) & (results["rank"] == 2)]
    assert isi["team"].item() == "ISI" and isi["top5_error"].item() == 26.2
    human = results[results["task"] == "human"]
    assert human["top5_error"].item() == 5.1


def test_zfnet_paper_numbers(results):
    # Zeiler & Fergus 2014, Table 2: test top-5 14.8 (6 convnets), 16.1 (1 convnet, model b).
    zf = results[results["team"].str.startswith("Zeiler")]
    assert sorted(zf["top5_error"]) == [14.8, 16.1]
    assert (zf["rank"] == 0).all()


def test_detection_starts_in_2013():
    table = tasks_by_year()
    years = [year for year in table.columns if table.loc["detection", year] == "✓"]
    assert min(years) == 2013
    assert all(table.loc["classification", year] == "✓" for year in range(2010, 2018))


def test_unknown_task():
    with pytest.raises(ValueError, match="^task must be one of"):
        winners("segmentation")
    with pytest.raises(ValueError, match="^outside_data must be"):
        winners("classification", outside_data="no")


def test_plot_has_both_panels_and_labels():
    fig = plot_top5_by_year()
    top, bottom = fig.axes
    assert top.get_ylabel() == "top-5 error (%)" and bottom.get_xlabel() == "year"
    assert top.get_title() and len(top.get_legend().get_texts()) == 4
    plt.close(fig)
