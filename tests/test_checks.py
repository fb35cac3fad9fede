"""course_utils.checks: instant feedback on the exercises, tried as a student would."""

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import check, checks
from course_utils.__main__ import main
from course_utils.checks import (
    answer_hash,
    check_function,
    exercise,
    feedback,
    hint,
)
from course_utils.metrics import box_iou


def is_correct(exercise_id, answer) -> bool:
    return feedback(exercise_id, answer)[0]


def function_exercises() -> list[str]:
    return sorted(checks._FUNCTION_TESTS)


# Answers worked out by hand from the sources quoted in each chapter.
HAND_WORKED = {
    "timeline-1": 26.2 - 15.3,  # ISI vs SuperVision, ILSVRC 2012 results page: 10.9 points
    "timeline-2": 28.2 / 2.25,  # NEC-UIUC 2010 over SENet 2017: 12.53...
    "timeline-3": (2.99 - 2.25) / 2.99 * 100,  # Xie et al. Sec. 5.1 and Hu et al. abstract: 24.7%
    "timeline-4": 20_000 / 150_000 * 100,  # ILSVRC 2010 page: 200,000 val + test, 50,000 val
    "metrics-1": 100 / 300,  # overlap 10 x 10 = 100; union 200 + 200 - 100 = 300
    "metrics-2": 192 / 572,  # 16 * 12 / (26 * 22) = 0.336 < 0.5 (Russakovsky et al. Sec. 4.3)
    # 11-point AP (Everingham et al. eq. 1), 7 lamps, without the duplicate: TP at ranks 1, 3, 7;
    # recall 1/7, 2/7, 3/7; best precision at recall >= r: r = 0, .1 -> 1; r = .2 -> 2/3;
    # r = .3, .4 -> 3/7; r >= .5 -> 0.
    "metrics-3": (1 + 1 + 2 / 3 + 3 / 7 + 3 / 7) / 11,
    # top-2 with ties to the lower index: image 1 (label 2, tie 1-2) right, image 2 (label 2,
    # three-way tie, classes 0 and 1 first) wrong, image 3 right, image 4 (label 1, 4th) wrong.
    "metrics-4": 2 / 4,
    "zfnet-1": (256 - 11) // 4 + 1,  # floor(245 / 4) + 1 = 62
    "zfnet-2": (7 * 7 * 3 + 1) * 96,  # Zeiler & Fergus Fig. 3: 96 filters of 7x7x3, + biases
    "zfnet-3": 256 / (2 * 3),  # stride 3: Nyquist 1/6 cycle/px = r / 256 at r = 42.7
    "zfnet-4": 1 + -(-(230 - 11) // 4),  # cuda-convnet's layer.py: 1 + ceil(219 / 4) = 56
    "zfnet-5": 1 - 0.5**2,  # white noise: area outside the square of side 0.5 in the unit square
    "alexnet-1": (28 - 24 + 1) ** 2 * 2,  # 5 offsets per axis, squared, times flip or not: 50
    "alexnet-2": 256 * (96 // 4) * 5 * 5 + 256,  # groups=4: each kernel sees 24 maps; + biases
    # Krizhevsky et al. Sec. 3.3: b = a / (k + alpha * sum of 5 squares)^beta = 100 / 7^0.75
    "alexnet-3": 100 / (2 + 1e-4 * 5 * 100**2) ** 0.75,
    # Sec. 3.4: pooling windows z = 3, s = 2, on conv5's 13 x 13 maps (Fig. 2: 43,264 = 13 * 13
    # * 256). Windows start at 0, 2, ..., 10: positions 2, 4, ..., 10 are in two windows per
    # axis, the other 8 in one; only a position whose row and column are both of those 8 is
    # in a single window.
    "alexnet-4": 13 * 13 - 8 * 8,
    # Transposed convolution chapter: stamp the kernel every `stride` pixels and add overlaps
    "tconv-1": 2 * 3 + 5 * 1,  # input 2's last tap meets input 5's first tap at position 2
    "tconv-2": (55 - 1) * 4 + 11 + (4 - 1),  # smallest width 227, plus stride - 1 (D&V rel. 6)
    "tconv-3": (3 * 3) / (2 * 2),  # per axis 2 or 3 of the 11-wide stamps 4 apart: 9 / 4
    # out = (3, 6, 9 - 1, -2, -3 + 2, 4, 6) = (3, 6, 8, -2, -1, 4, 6)
    "tconv-4": 1 * 6 + 2 * 8 + 3 * -2 + 4 * -1 + 5 * 4 + 6 * 6,
    # WordNet 3.0, classes below "musical instrument" (n03800933) by any chain of hypernyms
    "dataset-1": len(
        "accordion, acoustic guitar, banjo, bassoon, cello, chime, cornet, drum, electric guitar, "
        "flute, French horn, gong, grand piano, harmonica, harp, maraca, marimba, oboe, ocarina, "
        "organ, panpipe, sax, steel drum, trombone, upright, violin".split(", ")
    ),
    # WordNet's terrier subtree (26 classes) minus the names with "terrier" in them
    "dataset-2": len(
        ["Airedale", "cairn", "Dandie Dinmont", "Boston bull", "Lhasa"]
        + ["miniature schnauzer", "giant schnauzer", "standard schnauzer"]
    ),
    # Krizhevsky et al. (2012) Fig. 4: container ship, lifeboat, fireboat are watercraft;
    # amphibian (a motor vehicle) and drilling platform are not
    "dataset-3": 3,
    # chime and gong meet at "percussion instrument": chime, drum, gong, maraca, marimba,
    # steel drum, and (in WordNet, a piano is also a percussion instrument) grand piano, upright
    "dataset-4": 8,
    # Unpooling chapter: windows 0-2 and 2-4 both pick pixel 2 (value 7); their signals add
    "unpool-1": 1 + 2,
    "unpool-2": 3 * 3,  # per axis a pixel lies in ceil(5 / 2) = 3 windows that start 2 apart
    "unpool-3": 1 * 1 + 4 * (2 + 3) + 6 * 4,  # out = (0, 1, 0, 0, 5, 0, 4, 0)
    # Receptive fields (Araujo et al. 2019): size += (k - 1) * stride so far; stride *= s.
    # ZFNet conv1 7/2, pool 3/2, conv2 5/2, pool 3/2, conv3 3: 1 + 6 + 2*2 + 4*4 + 2*8 + 2*16
    "rf-1": 1 + 6 * 1 + 2 * 2 + 4 * 4 + 2 * 8 + 2 * 16,
    # VGG-16 conv4_3: starts move back by padding x stride: 2 convs at 1, 2 at 2, 3 at 4, 3 at 8
    "rf-2": -(2 * 1 + 2 * 2 + 3 * 4 + 3 * 8) + 7 * 8,
    "rf-3": 1 + sum(d * (3 - 1) for d in (1, 2, 4, 8)),  # dilated 3x3: +2d each
    "rf-4": (3 * 3) ** 2,  # per axis 3 taps two units apart, each seeing 3 pixels: 9 of 11
    # Deconvnet chapter: the value 2 at (1, 0) stamps 2 * filter on rows 2-3, columns 0-1
    "deconvnet-1": 2 * 3,  # pixel (3, 1) is the filter's entry (1, 1)
    "deconvnet-2": -3 + 1,  # the windows' signals add at the shared switch; ReLU was on: kept
    # windows h -> (h - 1) * stride + kernel: conv2 (5, 2), pool (3, 2), conv1 (7, 2)
    "deconvnet-3": ((((1 - 1) * 2 + 5) - 1) * 2 + 3 - 1) * 2 + 7,
    "deconvnet-4": 0.5 + 3.0,  # relu(g) where x > 0: only g = 0.5 (x = 0.5) and g = 3 (x = 1)
    # Occlusion chapter. Captum's placement: 1 + ceil((28 - 5) / 2) = 13 positions per side
    "occlusion-1": (1 + -(-(28 - 5) // 2)) ** 2,
    # starts 0, 3, ..., 21; those with s <= 13 <= s + 6 are 9 and 12: 2 per axis
    "occlusion-2": 2 * 2,
    # small AlexNet by hand: conv1-5 3904 + 38448 + 27712 + 36928 + 27696, fc6 6272,
    # fc7 16512, fc8 1290 parameters (SmallNet's docstring gives the layer sizes)
    "occlusion-3": (6272 + 16512) / (3904 + 38448 + 27712 + 36928 + 27696 + 6272 + 16512 + 1290),
    # pairs (1, 2), (1, 3), (2, 3) differ in 1, 1 and 2 of 4 signs; each pair counted twice
    "occlusion-4": 2 * (1 / 4 + 1 / 4 + 2 / 4) / 6,
    # After ZFNet. VGG-19 conv5_4 (Simonyan & Zisserman Table 1, E): r += (k - 1) j, j *= s;
    # 3x3 convs in blocks of 2, 2, 4, 4, 4 add 2j each; the four 2x2/2 pools add j = 1, 2, 4, 8
    "after-1": 1 + 2 * (2 * 1 + 2 * 2 + 4 * 4 + 4 * 8 + 4 * 16) + (1 + 2 + 4 + 8),
    # inception (3a) 5x5 branch, Szegedy et al. Table 1 columns: 192 in, reduce to 16, 32 out
    "after-2": (28 * 28 * 32 * 25 * 192) / (28 * 28 * 16 * 192 + 28 * 28 * 32 * 25 * 16),
    # He et al. Sec. 4.2, n = 18 (Table 6: 1.7 M): 3x3 weights / 9, BN 2 per channel, FC 64 -> 10
    "after-3": (9 * (48 + 256 * 36 + 512 + 1024 * 35 + 2048 + 4096 * 35) + 2 * 4048 + 650) / 1e6,
    # course_utils/_data/degradation.csv, plain-56, mean train_accuracy over seeds 0-2 by epoch:
    # 0.124, 0.250, 0.403, 0.489, 0.557, ... (scripts/train_degradation.py)
    "after-4": 5,
    # Attribution chapter. Trapezoids of width 0.25: 0.25 * (1/2 + 0.6 + 0.3 + 0.1 + 0/2)
    "attribution-1": 0.25 * (1.0 / 2 + 0.6 + 0.3 + 0.1 + 0.0 / 2),
    # IG of max(x - 1, 0) from 0 to 3: (3 - 0) * (length of the path where 3a > 1) = 3 * 2/3
    "attribution-2": 3 * (1 - 1 / 3),
    # Grad-CAM Eqs. 1-2: alpha = (0.5, -0.25); relu(0.5 * 2 - 0.25 * 1) at row 1, column 0
    "attribution-3": max(0.5 * 2 + -0.25 * 1, 0),
    # Before 2012. Dalal & Triggs: 8 x 16 cells, 7 x 15 block positions of 2 x 2 x 9 numbers
    "before-1": 7 * 15 * 2 * 2 * 9,
    "before-2": (28 // 2 - 4 + 1) ** 2,  # 14 cells per side, blocks of 4 at 11 positions
    "before-3": 0.2 / (2 * 0.2**2) ** 0.5,  # [3, 4] / 5 = [0.6, 0.8] -> [0.2, 0.2] -> 1 / sqrt 2
}


def lrn_by_hand(a):
    """Krizhevsky et al. Sec. 3.3, written as a loop over maps (k=2, n=5, alpha=1e-4, beta=0.75)."""
    out = torch.empty_like(a)
    maps = a.shape[1]
    for i in range(maps):
        window = a[:, max(0, i - 2) : min(maps - 1, i + 2) + 1]
        out[:, i] = a[:, i] / (2 + 1e-4 * (window**2).sum(dim=1)) ** 0.75
    return out


def grouped_parameters_by_hand(in_channels, out_channels, kernel, groups):
    """Each of the out_channels kernels sees in_channels / groups maps; one bias each."""
    return out_channels * (in_channels // groups) * kernel * kernel + out_channels


def match_one_by_hand(ious, taken, threshold):
    """Russakovsky et al. Sec. 4.3 / the ILSVRC devkit: the free box with the highest IoU."""
    free = [j for j in range(len(ious)) if not taken[j] and ious[j] >= threshold and ious[j] > 0]
    return max(free, key=lambda j: (ious[j], -j)) if free else -1


HAND_WORKED_FUNCTIONS = {
    "alexnet-lrn": lrn_by_hand,
    "alexnet-groups": grouped_parameters_by_hand,
    "metrics-match": match_one_by_hand,
}


def all_exercises() -> dict:
    text = (resources.files("course_utils") / "_data" / "exercises.json").read_text("utf-8")
    return json.loads(text)


@pytest.fixture
def records(monkeypatch):
    """Replace the course's exercises by the given records (for made-up exercises)."""

    def use(extra: dict):
        monkeypatch.setattr(checks, "_exercises", lambda: extra)

    return use


@pytest.mark.parametrize(("exercise_id", "answer"), HAND_WORKED.items())
def test_hand_worked_answers_are_accepted(exercise_id, answer, capsys):
    assert is_correct(exercise_id, answer) is True
    check(exercise_id, answer)
    assert capsys.readouterr().out.startswith("Correct!")


def test_every_exercise_has_a_hand_worked_answer():
    records, worked = set(all_exercises()), set(HAND_WORKED | HAND_WORKED_FUNCTIONS)
    assert not records - worked, (
        f"exercises.json has {sorted(records - worked)} but this file has no answer for them: "
        "add each to HAND_WORKED at the top of tests/test_checks.py, as the answer worked out "
        "by hand (an expression, with its source in a comment), not copied from the checker"
    )
    assert not worked - records, (
        f"HAND_WORKED in tests/test_checks.py lists {sorted(worked - records)}, which "
        "exercises.json does not have: remove them, or add the records (python -m course_utils add)"
    )
    assert sorted(HAND_WORKED_FUNCTIONS) == list(function_exercises())


def test_the_instructor_guide_counts_the_exercises_there_are():
    guide = (Path(__file__).parents[1] / "book" / "instructor_guide.md").read_text("utf-8")
    count = re.search(r"(\d+) in all", guide)
    assert count, "book/instructor_guide.md no longer says how many exercises there are"
    assert int(count.group(1)) == len(all_exercises()), (
        f"book/instructor_guide.md says {count.group(1)} exercises in all; exercises.json has "
        f"{len(all_exercises())}: update the guide"
    )


def test_equivalent_forms_are_accepted():
    for answer in ("10.9", " 10.9 ", "10.90", "10.900", 10.9, np.float64(10.9), "+10.9"):
        assert is_correct("timeline-1", answer), answer
    assert is_correct("zfnet-4", "56") and is_correct("zfnet-4", 56.0)


@pytest.mark.parametrize(
    ("exercise_id", "answer"),
    [
        ("zfnet-1", (224 - 11) / 4 + 1),  # 54.25: the floor the exercise is about
        ("zfnet-1", "54.25"),
        ("zfnet-4", 56.4),
        ("alexnet-2", 153856.5),
        ("zfnet-1", 54.0001),
    ],
)
def test_an_integer_answer_must_be_a_whole_number(exercise_id, answer):
    right, message = feedback(exercise_id, answer)
    assert not right and "not a whole number" in message


@pytest.mark.parametrize(
    ("exercise_id", "answer"),
    [
        ("timeline-1", 10.95),  # 10.9 is the answer; 10.95 is not, though it rounds to 11.0 or 10.9
        ("timeline-1", 10.94),
        ("timeline-1", "10.91"),
        ("timeline-1", 11),  # fewer decimals: only an exactly equal value passes
        ("metrics-1", 0.325),  # 1/3: 0.325 is not 0.333
        ("metrics-1", 0.3),
        ("metrics-1", 0.334),
        ("metrics-2", 0.335),  # 0.3357: rounds to 0.34 but is not it
        ("timeline-2", 12.54),
        ("timeline-2", 12.534),
    ],
)
def test_no_rounding_turns_a_wrong_answer_into_a_right_one(exercise_id, answer):
    assert not is_correct(exercise_id, answer)


def test_more_decimals_are_checked_against_the_answer():
    assert is_correct("metrics-1", 0.333) and is_correct("metrics-1", "0.3333")
    assert is_correct("metrics-2", 0.34) and is_correct("metrics-2", 0.336)
    assert is_correct("timeline-2", 12.53) and is_correct("timeline-2", "12.5333")
    assert is_correct("timeline-2", 12.533333333)  # beyond d + 3: compared at d + 3


def test_feedback_quotes_only_what_the_student_typed(capsys):
    check("metrics-2", 0.335)
    out = capsys.readouterr().out
    assert out.startswith("Not yet (metrics-2): 0.335 is not the answer.") and "0.34" not in out
    check("timeline-1", 10.95)
    out = capsys.readouterr().out
    assert "10.95 is not the answer" in out and "11.0" not in out
    check("timeline-2", 13)
    out = capsys.readouterr().out
    assert out.startswith("Not yet (timeline-2): 13 is not the answer.")
    assert hint("timeline-2") in out


def test_a_percentage_for_a_fraction_gets_a_hint(capsys):
    check("metrics-1", 33)
    out = capsys.readouterr().out
    assert out.startswith("Not yet (metrics-1): 33 is not between 0 and 1") and "fraction" in out
    assert "write 0.33" in out
    assert not is_correct("metrics-1", 33.3)


def test_the_fraction_hint_is_written_from_the_students_own_number(capsys):
    # metrics-2's answer is 0.34: a student who typed 34 is shown 0.34, not another
    # exercise's example; a percent sign gets the same advice in one step.
    check("metrics-2", 34)
    out = capsys.readouterr().out
    assert "34 is not between 0 and 1" in out and "write 0.34" in out and "0.33" not in out
    check("metrics-2", "34%")
    out = capsys.readouterr().out
    assert out.startswith("Not checked (metrics-2): '34%' is a percentage") and "write 0.34." in out
    check("metrics-1", 250)  # not a percentage either: no conversion offered
    out = capsys.readouterr().out
    assert "250 is not between 0 and 1" in out and "write" not in out.split("Hint:")[0]


@pytest.mark.parametrize(
    ("answer", "advice"),
    [
        ("10,9", "with a point, not a comma (10.9)"),
        ("153,856", "without thousands separators (153856)"),
        ("10.9%", "leave it out (10.9)"),
        ("ten", "must be a number such as 10.9"),
        ("", "must be a number"),
        ([10.9], "give the number itself"),
        (True, "must be a number"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("1e400", "finite number below"),
        (np.array([1.0, 2.0]), "holds 2 numbers"),
        (torch.zeros(0), "holds 0 numbers"),
        ({"answer": 10.9}, "must be a number, got dict"),
    ],
)
def test_typing_slips_get_advice_not_a_traceback(answer, advice, capsys):
    check("timeline-1", answer)
    out = capsys.readouterr().out
    assert out.startswith("Not checked (timeline-1):") and advice in out
    assert is_correct("timeline-1", answer) is False


def test_one_element_tensors_and_arrays_are_numbers():
    a, b = [[0, 0, 20, 10]], [[10, 0, 30, 10]]
    assert box_iou(a, b).shape == (1, 1) and is_correct("metrics-1", box_iou(a, b))
    for answer in (torch.tensor(1 / 3), torch.tensor([[1 / 3]]), np.array([[1 / 3]])):
        assert is_correct("metrics-1", answer)
    assert is_correct("metrics-1", torch.tensor(1 / 3, dtype=torch.float32))
    assert is_correct("zfnet-2", torch.tensor(14208)) and is_correct("zfnet-2", np.int64(14208))
    assert not is_correct("zfnet-2", torch.tensor([14208, 1]))
    assert not is_correct("metrics-1", torch.tensor(True))


def test_a_year_is_a_whole_number(records):
    year = {"question": "?", "kind": "integer", "hint": "h"}
    records({"x-year": year | checks.record_hashes("x-year", 2015, kind="integer")})
    assert is_correct("x-year", "2015") and is_correct("x-year", 2015.0)
    assert not is_correct("x-year", 2015.4) and not is_correct("x-year", 2014)
    assert "not a whole number" in feedback("x-year", 2015.4)[1]


def test_exactly_equal_with_fewer_decimals(records):
    half = {"question": "?", "kind": "number", "decimals": 2, "hint": "h"}
    records(
        {
            "x-half": half | checks.record_hashes("x-half", "0.50000", kind="number", decimals=2),
            "x-near": half | checks.record_hashes("x-near", "0.50400", kind="number", decimals=2),
        }
    )
    assert is_correct("x-half", "0.5") and is_correct("x-half", 0.5)
    assert is_correct("x-near", "0.50") and not is_correct("x-near", "0.5")


def test_text_answers(records):
    record = {"question": "?", "kind": "text", "hint": "h"}
    records({"x-text": record | {"sha256": answer_hash("x-text", "Clarifai", kind="text")}})
    assert is_correct("x-text", "  clarifai ") and not is_correct("x-text", "ZF")
    assert not is_correct("x-text", 3)


def test_placeholder_none_reminds(capsys):
    assert not is_correct("timeline-1", None)
    check("timeline-1", None)
    assert "replace None" in capsys.readouterr().out


def test_hash_is_sha256_of_id_and_answer_written_with_the_decimals():
    assert answer_hash("x-1", 3.14159, decimals=2) == hashlib.sha256(b"x-1:3.14").hexdigest()
    assert answer_hash("x-1", "0.125", decimals=2) == hashlib.sha256(b"x-1:0.12").hexdigest()
    assert (
        answer_hash("x-2", "  Clarifai ", kind="text")
        == hashlib.sha256(b"x-2:clarifai").hexdigest()
    )
    assert answer_hash("x-3", -0.0001, decimals=1) == hashlib.sha256(b"x-3:0.0").hexdigest()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: check("no-such-exercise", 1), ValueError, "^exercise_id must be one of"),
        (lambda: check(3, 1), TypeError, "^exercise_id must be a str"),
        (lambda: answer_hash("x", 1, decimals=-1), ValueError, "^decimals must be"),
        (lambda: answer_hash("x", 1, kind="function"), ValueError, "^kind must be one of"),
        (lambda: check_function("timeline-1", abs), ValueError, "does not ask for a function"),
        (lambda: check_function("alexnet-lrn", 3), TypeError, "^student_fn must be a function"),
    ],
)
def test_bad_arguments_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_exercise_records_are_complete():
    for exercise_id in all_exercises():
        record = exercise(exercise_id)
        assert checks.record_problems(exercise_id, record) == []
        assert {"question", "kind", "hint"} <= set(record)
        assert record["kind"] in checks.KINDS
        if record["kind"] != "function":
            assert len(record["sha256"]) == 64
        if exercise_id in HAND_WORKED:  # this course's chapters 1-4: the full rule
            assert len(record["sha256_more"]) == checks.EXTRA_DECIMALS


# --- exercises where students write a function ------------------------------------------


@pytest.mark.parametrize(("exercise_id", "solution"), HAND_WORKED_FUNCTIONS.items())
def test_a_right_function_passes(exercise_id, solution, capsys):
    assert check_function(exercise_id, solution) is True
    assert capsys.readouterr().out.startswith(f"Correct! ({exercise_id}")


def test_a_wrong_function_gets_the_failing_input(capsys):
    def torch_lrn(a):  # PyTorch's alpha / n convention: the chapter's trap
        return torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)(a)

    assert check_function("alexnet-lrn", torch_lrn) is False
    out = capsys.readouterr().out
    assert out.startswith("Not yet (alexnet-lrn): for the input (a tensor of shape")

    def dense(in_channels, out_channels, kernel, groups):  # forgets the groups
        return out_channels * in_channels * kernel * kernel + out_channels

    assert check_function("alexnet-groups", dense) is False

    def voc(ious, taken, threshold):  # PASCAL VOC's devkit: only the best-overlapping box
        best = int(np.argmax(ious))
        return best if not taken[best] and ious[best] >= threshold else -1

    assert check_function("metrics-match", voc, trials=200) is False


def test_a_crashing_or_missing_function_is_reported(capsys):
    assert check_function("alexnet-groups", lambda *args: 1 / 0) is False
    assert "raised ZeroDivisionError" in capsys.readouterr().out
    assert check_function("alexnet-groups", None) is False
    assert "write your function" in capsys.readouterr().out
    assert not is_correct("alexnet-groups", 3)


# --- the instructors' command line ----------------------------------------------------------


def run(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exit:
        code = exit.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_hash_prints_the_hash(capsys):
    code, out, _ = run(["hash", "x-1", "10.9", "--decimals", "1"], capsys)
    assert code == 0 and out.strip() == hashlib.sha256(b"x-1:10.9").hexdigest()
    code, out, _ = run(["hash", "x-1", "54", "--kind", "integer"], capsys)
    assert out.strip() == hashlib.sha256(b"x-1:54").hexdigest()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["hash", "x-1", "10.93", "--decimals", "1"], "has 2 decimals but --decimals is 1"),
        (["hash", "x-1", "ten", "--decimals", "1"], "ANSWER: answer must be a number"),
        (["hash", "x-1", "12.5"], "--decimals is required with --kind number"),
        (["add", "x-1", "12.5000", "--question", "q", "--hint", "h"], "--decimals is required"),
        (["add", "X 1", "3", "--kind", "integer", "--question", "q", "--hint", "h"], "hyphens"),
        (["check", "no-such-exercise", "1"], "is not in"),
        (["check", "alexnet-lrn", "1"], "asks for a function"),
        (["hash", "x-1", "10,9", "--decimals", "1"], "with a point"),
        (["hash", "x-1", "1", "--decimals", "-1"], "--decimals must be 0 or more"),
        (["hash", "x-1", "54.5", "--kind", "integer"], "not a whole number"),
        (["hash", "x-1", "54", "--kind", "integer", "--decimals", "1"], "number only"),
        (["hash", "x-1", "1", "--decimals", "1.5"], "invalid int value"),
        (["add", "x-1", "10.9", "--decimals", "1", "--question", "q", "--hint", "h"], "at least 4"),
        (
            ["add", "x-1", "33.000", "--decimals", "0", "--unit", "fraction"]
            + ["--question", "q", "--hint", "h"],
            "0 and 1",
        ),
        (
            ["add", "timeline-1", "1", "--kind", "integer", "--question", "q", "--hint", "h"],
            "exists",
        ),
    ],
)
def test_cli_mistakes_are_messages_not_tracebacks(argv, message, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_cli_add_writes_a_record_the_checker_uses(tmp_path, capsys, records):
    path = tmp_path / "exercises.json"
    path.write_text("{}\n", encoding="utf-8")
    argv = ["add", "x-new", "0.33333", "--decimals", "2", "--unit", "fraction"]
    argv += ["--question", "A third?", "--hint", "1 / 3.", "--file", str(path)]
    code, out, _ = run(argv, capsys)
    assert code == 0 and "x-new written" in out
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["x-new"]["unit"] == "fraction" and len(written["x-new"]["sha256_more"]) == 3
    records(written)
    assert is_correct("x-new", "0.33") and is_correct("x-new", 1 / 3)
    assert not is_correct("x-new", 0.335) and not is_correct("x-new", 33)
    code, _, err = run(argv, capsys)  # a second time: refused
    assert code == 2 and "already exists" in err


def test_cli_add_then_check_as_a_student(tmp_path, capsys):
    """The failure of issue 12: 12.5 hashed at the default 0 decimals made 12.4 'correct'."""
    path = tmp_path / "exercises.json"
    path.write_text("{}\n", encoding="utf-8")
    argv = ["add", "x-half", "12.5000", "--decimals", "1", "--question", "q?", "--hint", "h."]
    code, out, _ = run([*argv, "--file", str(path)], capsys)
    assert code == 0
    assert "HAND_WORKED in tests/test_checks.py" in out and "book/solutions.md" in out
    assert "https://github.com/" in out and "Colab installs the course from there" in out
    for answer, verdict in (("12.5", "Correct!"), ("12.50", "Correct!"), ("12.4", "Not yet")):
        code, out, _ = run(["check", "x-half", answer, "--file", str(path)], capsys)
        assert code == 0 and out.startswith(f"{verdict} (x-half)"), (answer, out)
    code, out, _ = run(["check", "x-half", "13", "--file", str(path)], capsys)
    assert out.startswith("Not yet (x-half): 13 is not the answer.")


def test_cli_validate(tmp_path, capsys):
    code, out, _ = run(["validate"], capsys)
    assert code == 0 and f"{len(all_exercises())} exercises" in out
    good = all_exercises()["timeline-1"]
    broken = {
        "x-no-hint": {k: v for k, v in good.items() if k != "hint"},
        "x-decimals": good | {"decimals": "1"},
        "x-hash": good | {"sha256": "abc"},
        "x-more": good | {"sha256_more": good["sha256_more"][:1]},
        "x-kind": good | {"kind": "float"},
        "x-extra": good | {"answer": 10.9},
        "x-function": {"question": "q", "kind": "function", "hint": "h"},
    }
    path = tmp_path / "exercises.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    code, _, err = run(["validate", "--file", str(path)], capsys)
    assert code == 2 and "Traceback" not in err and "7 problems" in err
    for exercise_id in broken:
        assert f"{exercise_id}: " in err
    path.write_text("[1, 2]", encoding="utf-8")
    code, _, err = run(["validate", "--file", str(path)], capsys)
    assert code == 2 and "one JSON object" in err


def test_cli_add_refuses_an_installed_copy(monkeypatch, tmp_path, capsys):
    import course_utils.__main__ as cli

    monkeypatch.setattr(cli, "CLONE", tmp_path)  # no pyproject.toml: site-packages, not a clone
    argv = ["add", "x-1", "3", "--kind", "integer", "--question", "q", "--hint", "h"]
    code, _, err = run(argv, capsys)
    assert code == 2 and "not run from a clone" in err and "--file" in err


def test_cli_add_reports_a_file_it_cannot_write(tmp_path, capsys):
    path = tmp_path / "exercises.json"
    path.write_text("{}\n", encoding="utf-8")
    path.chmod(0o444)
    argv = ["add", "x-1", "3", "--kind", "integer", "--question", "q", "--hint", "h"]
    code, _, err = run([*argv, "--file", str(path)], capsys)
    path.chmod(0o644)
    if code == 0:
        pytest.skip("running as root: a read-only file can still be written")
    assert code == 2 and "cannot write" in err and "Traceback" not in err


def test_fewer_decimals_than_asked_get_a_note_that_reveals_nothing():
    right, message = feedback("metrics-3", round(0.3203463, 3))  # the float 0.32
    assert not right and "fewer decimals than the 3 asked" in message
    assert "0.320" not in message
    _, message = feedback("metrics-3", 0.331)
    assert "fewer decimals" not in message
    # fewer decimals, but not a rounding of the answer (0.320...): no note
    for wrong in (0.33, 0.4, 32, "0.31"):  # (0.3 and 0.32 are roundings of 0.3203...)
        right, message = feedback("metrics-3", wrong)
        assert not right and "fewer decimals" not in message, wrong
    right, message = feedback("metrics-3", "0.32")  # the answer rounded to 2 decimals
    assert not right and "fewer decimals" in message


def test_exercise_returns_a_copy_that_changes_no_verdict():
    record = exercise("timeline-1")
    record["sha256"] = answer_hash("timeline-1", 99, decimals=1)
    record["sha256_more"] = []
    assert exercise("timeline-1")["sha256"] != record["sha256"]
    assert is_correct("timeline-1", HAND_WORKED["timeline-1"]) and not is_correct("timeline-1", 99)


def test_check_function_leaves_torchs_global_generator_alone(capsys):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_function("alexnet-groups", lambda *args: 0, trials=3)
    assert torch.equal(torch.rand(3), expected)


def test_check_function_with_an_array_answer_says_what_it_got(capsys):
    def counts_as_array(in_channels, out_channels, kernel, groups):
        return np.array([in_channels * out_channels * kernel * kernel // groups + out_channels])

    assert check_function("alexnet-groups", counts_as_array, trials=5)  # one number: fine
    assert not check_function("alexnet-groups", lambda *args: np.zeros(3), trials=2)
    assert "your function returned [0., 0., 0.]" in capsys.readouterr().out


def test_a_long_almost_number_is_refused_at_once():
    import time

    for typed in ["1" * 40_000 + "x", "1" * 40_000 + ",5x", "1" * 40_000]:
        start = time.perf_counter()
        right, message = feedback("timeline-2", typed)
        assert time.perf_counter() - start < 0.5
        assert not right and "characters long" in message
    # the pattern itself is linear: 10,000 digits and a letter took 9 s before
    start = time.perf_counter()
    assert checks._PLAIN.fullmatch("1" * 10_000 + "x") is None
    assert time.perf_counter() - start < 0.5


def test_hash_and_function_checks_name_their_arguments():
    with pytest.raises(TypeError, match="^exercise_id must be a str"):
        answer_hash(3, 1)
    with pytest.raises(TypeError, match="^decimals must be an int"):
        answer_hash("x", 1, decimals=1.0)
    assert answer_hash("x", 1.25, decimals=np.int64(1)) == answer_hash("x", 1.25, decimals=1)
    with pytest.raises(ValueError, match="^trials must be an int >= 1"):
        check_function(function_exercises()[0], lambda *args: 0, trials=0)
    with pytest.raises(TypeError, match="^student_fn must be a function"):
        check_function(function_exercises()[0], "my_function")
