"""course_utils.timeline: the results table against the numbers in the primary sources."""

import re
from pathlib import Path

import pytest

from course_utils import timeline
from course_utils.timeline import (
    RESULT_COLUMNS,
    load_results,
    load_tasks,
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


def test_classification_is_its_own_task_only_until_2013():
    # ILSVRC 2013 page: three competitions (detection, classification, classification plus
    # localization); 2014 page: two (detection, classification plus localization).
    tasks = load_tasks().set_index(["year", "task"])
    for year in range(2014, 2018):
        description = tasks.loc[(year, "classification"), "description"]
        assert "not a separate task" in description or "No classification task" in description
    assert "Image classification with 1000" in tasks.loc[(2013, "classification"), "description"]


def test_test_set_sizes_from_the_challenge_pages():
    # 2010 page: 200,000 validation and test photos, 50,000 of them validation;
    # 2011 and 2012 pages: 150,000, 50,000 of them validation.
    sizes = timeline.test_set_sizes()
    assert sizes.to_dict() == {2010: 150_000, 2011: 100_000, 2012: 100_000}


def test_detection_winners_won_the_most_categories(results):
    # The 2013 FAQ: "The winner of the DET competition will be the team which achieves first
    # place in average precision on the most object categories"; the 2014-2017 results pages
    # order the entries by "number of object categories won". Every year's rows quote that
    # number in source_detail.
    detection = results[(results["task"] == "detection") & (results["outside_data"] == "no")]
    pattern = r"(\d+) (?:of 200 )?categories won"
    for year, rows in detection.groupby("year"):
        won = {
            row["rank"]: int(re.search(pattern, row["source_detail"]).group(1))
            for _, row in rows.iterrows()
        }
        assert won[1] > won.get(2, 0), year
    # 2013: NEC-MU's second place is its run with 35 categories won (19.18 mAP), not its run
    # with the better mAP (19.62, 25 categories), 2013 results page, Task 1.
    nec = detection[(detection["year"] == 2013) & (detection["rank"] == 2)]
    assert nec["det_map"].item() == 19.18 and "35 categories won" in nec["source_detail"].item()
    # 2017: DeepView(ETRI) is second by categories won (10) with a lower mAP (59.3) than
    # NUS-Qihoo_DPNs (65.7, 9 categories): the ranking is not by mAP.
    second = detection[(detection["year"] == 2017) & (detection["rank"] == 2)]
    assert second["team"].item() == "DeepView(ETRI)" and second["det_map"].item() < 65.69


def test_2010_xrce_is_an_honorable_mention_not_second(results):
    # The 2010 challenge page lists XRCE as "Honorable mention"; no source we read ranks it second.
    xrce = results[(results["year"] == 2010) & (results["team"] == "XRCE")]
    assert xrce["rank"].item() == 0 and "Honorable mention" in xrce["note"].item()
    assert xrce["verified"].item() == "no"


def test_unknown_task():
    with pytest.raises(ValueError, match="^task must be one of"):
        winners("segmentation")
    with pytest.raises(TypeError, match="^outside_data must be"):
        winners("classification", outside_data="no")


def test_ensemble_depths_from_the_papers(results):
    cls = results[(results["task"] == "classification") & (results["rank"] == 1)]
    depth = {(r.year, r.outside_data): (r.depth, r.ensemble) for r in cls.itertuples()}
    # Krizhevsky et al. Sec. 6: five similar CNNs (16.4%); with two pre-trained CNNs that have
    # "an extra sixth convolutional layer" (15.3%). He et al.: six models of different depth.
    assert depth[(2012, "no")] == (8, "same depth") and depth[(2012, "yes")] == (9, "mixed depths")
    assert depth[(2015, "no")] == (152, "mixed depths")
    assert depth[(2014, "no")] == (22, "same depth")  # Szegedy et al.: 7 versions of one net


def test_largest_drop_absolute_and_relative(results):
    # The chapter: 2012 has the largest drop in percentage points (25.77 -> 16.4, 36%),
    # but 2014 (11.7 -> 6.67, 43%) and 2015 (6.67 -> 3.57, 46%) the larger relative drops.
    error = winners("classification", results).set_index("year")["top5_error"]
    points = -error.diff()
    relative = points / error.shift()
    assert points.idxmax() == 2012 and points[2012] == pytest.approx(25.77 - 16.4)
    assert relative.idxmax() == 2015
    assert relative[2014] > relative[2012] and relative[2015] > relative[2012]
    assert round(100 * relative[2012]) == 36 and round(100 * relative[2014]) == 43
    assert round(100 * relative[2015]) == 46
