"""course_utils.checks: instant feedback on the exercises."""

import json
from importlib import resources

import pytest

from course_utils import check
from course_utils.checks import answer_hash, exercise, hint, is_correct

# Answers worked out by hand from the sources quoted in each chapter.
HAND_WORKED = {
    "timeline-1": 26.2 - 15.3,  # ISI vs SuperVision, ILSVRC 2012 results page: 10.9 points
    "timeline-2": 28.2 / 2.25,  # NEC-UIUC 2010 over SENet 2017: 12.53...
    "timeline-3": 2015,  # MSRA's 3.57% < 5.1%; GoogLeNet's 6.67% in 2014 was not
    "metrics-1": 100 / 300,  # overlap 10 x 10 = 100; union 200 + 200 - 100 = 300
    "metrics-2": 192 / 572,  # 16 * 12 / (26 * 22) = 0.336 < 0.5 (Russakovsky et al. Sec. 4.3)
    # 11-point AP (Everingham et al. eq. 1), 7 lamps, TP at ranks 1, 3, 8: recall 1/7, 2/7, 3/7;
    # best precision at recall >= r: r = 0, .1 -> 1; r = .2 -> 2/3; r = .3, .4 -> 3/8; r >= .5 -> 0.
    "metrics-3": (1 + 1 + 2 / 3 + 3 / 8 + 3 / 8) / 11,
    # torchvision's ImageNet names with "terrier": toy, Staffordshire bull-, American Staffordshire,
    # Bedlington, Border, Kerry blue, Irish, Norfolk, Norwich, Yorkshire, wire-haired fox, Lakeland,
    # Sealyham, Australian, Scotch, Tibetan, silky, soft-coated wheaten, West Highland white: 19
    "metrics-4": 19,
    "zfnet-1": (224 - 11) // 4 + 1,  # floor(213 / 4) + 1 = 54 (Krizhevsky et al. state 55)
    "zfnet-2": (7 * 7 * 3 + 1) * 96,  # Zeiler & Fergus Fig. 3: 96 filters of 7x7x3, + biases
    "zfnet-3": 256 * 0.5 / (2 * 2),  # total stride 4: Nyquist 1/8 cycle/px = r / 256 at r = 32
    "alexnet-1": (28 - 24 + 1) ** 2 * 2,  # 5 offsets per axis, squared, times flip or not: 50
    "alexnet-2": 256 * (96 // 4) * 5 * 5 + 256,  # groups=4: each kernel sees 24 maps; + biases
    # Krizhevsky et al. Sec. 3.3: b = a / (k + alpha * sum of 5 squares)^beta = 100 / 7^0.75
    "alexnet-3": 100 / (2 + 1e-4 * 5 * 100**2) ** 0.75,
}


def all_exercises() -> dict:
    text = (resources.files("course_utils") / "_data" / "exercises.json").read_text("utf-8")
    return json.loads(text)


@pytest.mark.parametrize(("exercise_id", "answer"), HAND_WORKED.items())
def test_hand_worked_answers_are_accepted(exercise_id, answer, capsys):
    assert is_correct(exercise_id, answer) is True
    check(exercise_id, answer)
    assert capsys.readouterr().out.startswith("Correct!")


def test_every_exercise_has_a_hand_worked_answer():
    assert sorted(all_exercises()) == sorted(HAND_WORKED)


def test_equivalent_forms_accepted_and_rounding_respected():
    assert (
        is_correct("timeline-1", "10.9")
        and is_correct("timeline-1", 10.94)
        and is_correct("timeline-1", " 10.9 ")
    )
    assert not is_correct("timeline-1", 10.96)  # rounds to 11.0
    assert is_correct("timeline-3", "2015") and not is_correct("timeline-3", 2014)


def test_wrong_answer_gives_the_hint(capsys):
    assert not is_correct("timeline-2", 13)
    check("timeline-2", 13)
    out = capsys.readouterr().out
    assert out.startswith("Not yet (timeline-2): 13.0 is not the answer.")
    assert hint("timeline-2") in out


def test_placeholder_none_reminds(capsys):
    assert not is_correct("timeline-1", None)
    check("timeline-1", None)
    assert "replace None" in capsys.readouterr().out


def test_hash_is_sha256_of_id_and_normalised_answer():
    import hashlib

    assert answer_hash("x-1", 3.14159, decimals=2) == hashlib.sha256(b"x-1:3.14").hexdigest()
    assert (
        answer_hash("x-2", "  Clarifai ", kind="text")
        == hashlib.sha256(b"x-2:clarifai").hexdigest()
    )
    assert answer_hash("x-3", -0.0001, decimals=1) == hashlib.sha256(b"x-3:0.0").hexdigest()


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("no-such-exercise", 1), ValueError, "^exercise_id must be one of"),
        (("timeline-1", "ten"), ValueError, "^answer must be a number"),
        (("timeline-1", "10.9%"), ValueError, "^answer must be a number .percentages without"),
        (("timeline-1", [10.9]), TypeError, "^answer must be a number"),
        (("timeline-1", float("nan")), ValueError, "^answer must be a finite number"),
        (("timeline-1", True), TypeError, "^answer must be a number"),
    ],
)
def test_bad_input_names_the_argument(args, error, message):
    with pytest.raises(error, match=message):
        check(*args)


def test_exercise_records_are_complete():
    for exercise_id in all_exercises():
        record = exercise(exercise_id)
        assert {"question", "kind", "hint", "sha256"} <= set(record)
        assert len(record["sha256"]) == 64
