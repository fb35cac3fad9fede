"""The graded assignments: generation, what students get, public tests, and grading.

From the instructor sources in assignments/source/, scripts/make_assignments.py is run
into a temporary folder; the student versions must equal the committed ones and hold
no solution text; a2's public tests must each catch a plausible mistake, saying what was
expected; then the trusted grader (``python -m grading``, in the bubblewrap sandbox)
grades, for every assignment, the reference submission (full marks) and a wrong one whose
score is worked out by hand from the tests it must fail, plus, for assignment 1, a
submission that uses course_utils, one with a cell that loops forever and one that is not
a notebook. The attacks of issue 20 are in tests/test_grading_hostile.py.
"""

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments" / "source"
ASSIGNMENTS = ("a1_metrics", "a2_deconvnet", "a3_receptive_field")
SEED = "ci-seed"


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make = load(ROOT / "scripts" / "make_assignments.py", "make_assignments")


# ----------------------------------------------------------------------------- generation


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every assignment generated from its source into a fresh folder (student/, dist/)."""
    out = tmp_path_factory.mktemp("assignments")
    for name in ASSIGNMENTS:
        make.build(name, out / "student" / name, out / "dist" / name)
    return out


def test_every_source_is_an_assignment():
    assert sorted(p.stem for p in SOURCE.glob("*.ipynb")) == list(ASSIGNMENTS)


def test_committed_student_versions_equal_a_fresh_generation(built):
    for name in ASSIGNMENTS:
        stale = make._same_tree(built / "student" / name, ROOT / "assignments" / "student" / name)
        assert not stale, (
            f"assignments/student/{name} differs from its source in {stale}: "
            "run python scripts/make_assignments.py and commit the result"
        )


def solution_lines(name: str) -> list[str]:
    """The code between # BEGIN SOLUTION and # END SOLUTION comments in an assignment's source."""
    cells = json.loads((SOURCE / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    prompts = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    lines, inside = [], False
    for cell in cells:
        if cell["cell_type"] != "code":
            continue  # the raw cells around a solution cell: its def line is the prompt
        for line in "".join(cell["source"]).splitlines():
            if "# BEGIN SOLUTION" in line:
                inside = True
            elif "# END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) >= 12 and line.strip() not in prompts:
                lines.append(line.strip())  # (a hint in a prompt may show a line, on purpose)
    return lines


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_versions_hold_no_solution_and_no_hidden_test(name):
    folder = ROOT / "assignments" / "student" / name
    texts = {p.name: p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file()}
    solution = solution_lines(name)
    assert len(solution) >= 5, "the source notebook should hold solutions"
    for file, text in texts.items():
        leaked = [line for line in solution if line in text]
        assert not leaked, f"{file} shows solution lines: {leaked[:3]}"
        assert "hidden=True" not in text and "hidden: true" not in text, f"{file}: hidden test"
    notebook = json.loads(texts[f"{name}.ipynb"])
    answers = [c for c in notebook["cells"] if "otter_answer_cell" in c["metadata"].get("tags", [])]
    assert answers and all("    ..." in c["source"] for c in answers), "answer cells end in ..."


def test_colab_cell_installs_the_pinned_otter_and_fetches_the_public_tests(monkeypatch, tmp_path):
    pinned = re.search(r"^otter-grader==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert pinned and pinned.group(1) == make.OTTER_VERSION, "requirements.txt and the Colab cell"
    for name in ASSIGNMENTS:
        notebook = json.loads(
            (ROOT / "assignments" / "student" / name / f"{name}.ipynb").read_text(encoding="utf-8")
        )
        questions = sorted(
            p.stem for p in (ROOT / "assignments" / "student" / name / "tests").glob("*.py")
        )
        source = make.setup_cell_source(name, questions)
        assert notebook["cells"][0]["source"] == source, f"{name}: first cell is not the Colab cell"
        assert "grader = otter.Notebook()" in notebook["cells"][1]["source"], "no file name: Colab"

    calls, fetched = [], []
    monkeypatch.setattr(subprocess, "run", lambda command, **kw: calls.append(command))
    monkeypatch.setattr("urllib.request.urlretrieve", lambda url, to: fetched.append((url, to)))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "setup", "exec"), {})
    assert calls == [] and fetched == [], "outside Colab the cell does nothing"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.chdir(tmp_path)  # the cell makes a tests/ folder
    exec(compile(source, "setup", "exec"), {})
    assert calls and f"otter-grader=={make.OTTER_VERSION}" in calls[0]
    url, branch = make.repository()
    owner_name = url.rstrip("/").split("github.com/")[1]
    assert [u for u, _ in fetched] == [
        f"https://raw.githubusercontent.com/{owner_name}/{branch}/assignments/student/"
        f"{name}/tests/{q}.py"
        for q in questions
    ]


# ----------------------------------------------------------------------------- public tests

A2_SOLUTION = (ROOT / "tests" / "grading_fixtures" / "a2_solution.py").read_text(encoding="utf-8")
#: Plausible wrong answers to assignment 2 (issue 20), each with the public test that must
#: catch it and a phrase of that test's message saying what was expected.
A2_MISTAKES = {
    "switches indexed across all maps": (
        ("out.scatter_add_(2, switches.reshape(n, c, -1), pooled.reshape(n, c, -1))\n"
         "    return out.reshape(n, c, height, width)",
         "flat = pooled.new_zeros(n * c * height * width)\n"
         "    flat.scatter_add_(0, switches.reshape(-1), pooled.reshape(-1))\n"
         "    return flat.reshape(n, c, height, width)"),
        "test_q1_each_map_on_its_own", "each map is unpooled on its own",
    ),
    "float32 whatever pooled is": (
        ("out = pooled.new_zeros(n, c, height * width)", "out = torch.zeros(n, c, height * width)"),
        "test_q1_keeps_the_dtype", "must be float64 too",
    ),
    "F.max_unpool2d (writes instead of adding)": (
        ("out = pooled.new_zeros(n, c, height * width)\n"
         "    out.scatter_add_(2, switches.reshape(n, c, -1), pooled.reshape(n, c, -1))\n"
         "    return out.reshape(n, c, height, width)",
         "return F.max_unpool2d(pooled, switches, 3, 2, output_size=output_size)"),
        "test_q1_overlap_adds", "expected 1 + 2 + 3 + 4 = 10",
    ),
    "the bias left out on the way up": (
        ("forward = F.relu(conv(image))",
         "forward = F.relu(F.conv2d(image, conv.weight, stride=conv.stride, padding=conv.padding))"),
        "test_q2_bias_and_one_unit", "the unit's activation includes the bias",
    ),
    "every channel kept": (
        ("signal[0, channel, row, column] = pooled[0, channel, row, column]",
         "signal[0, :, row, column] = pooled[0, :, row, column]"),
        "test_q2_bias_and_one_unit", "24.5: channel 1's unit",
    ),
    "all units kept": (
        ("signal[0, channel, row, column] = pooled[0, channel, row, column]", "signal = pooled"),
        "test_q2_bias_and_one_unit", "only the chosen unit",
    ),
    "the convolution's stride ignored": (
        ("stride=conv.stride, padding=conv.padding)", "padding=conv.padding)"),
        "test_q2_stride", "expected shape (1, 1, 9, 9)",
    ),
    "unflipped filters through conv2d": (
        ("F.conv_transpose2d(down, conv.weight, stride=conv.stride, padding=conv.padding)",
         "F.conv2d(down, conv.weight.transpose(0, 1), padding=conv.padding)"),
        "test_q2_transposed_not_correlated", "the filter was not flipped",
    ),
}  # fmt: skip


def _public_tests(name: str) -> dict[str, str]:
    cells = json.loads((SOURCE / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    tests = {}
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "hidden: false" in source:
            tests[source.split("def ")[1].split("(")[0]] = source
    return tests


def _failures(answer: str, tests: dict[str, str]) -> dict[str, str]:
    scope: dict = {}
    exec(answer, scope)
    failed = {}
    for test, source in tests.items():
        try:
            exec(source, dict(scope))
        except Exception as error:
            failed[test] = str(error)
    return failed


def test_a2_public_tests_pass_the_solution():
    assert _failures(A2_SOLUTION, _public_tests("a2_deconvnet")) == {}


@pytest.mark.parametrize("mistake", A2_MISTAKES)
def test_a2_public_tests_catch_each_plausible_mistake_and_say_what_was_expected(mistake):
    (old, new), test, phrase = A2_MISTAKES[mistake]
    assert old in A2_SOLUTION
    failed = _failures(A2_SOLUTION.replace(old, new), _public_tests("a2_deconvnet"))
    assert test in failed, f"{mistake}: no public test caught it ({sorted(failed)})"
    assert phrase in failed[test], failed[test]


def _source_solution(name: str) -> str:
    """The code cells of an assignment's source, solutions in place, without the tests."""
    cells = json.loads((SOURCE / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return "\n\n".join(c for c in code if "BEGIN TEST CONFIG" not in c and "otter" not in c)


#: Plausible mistakes in assignments 1 and 3, each with the public test that catches it.
OTHER_MISTAKES = {
    "a1 ties to the higher class": (
        "a1_metrics", ("np.argsort(-scores, axis=1, kind=\"stable\")", "np.argsort(scores, axis=1, kind=\"stable\")[:, ::-1]"),
        "test_q1_all_tied",
    ),
    "a1 the devkit's + 1": (
        "a1_metrics", ("area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])",
                       "area_a = (a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1)"),
        "test_q2_hand_worked",
    ),
    "a1 PASCAL's 0.5 for every box": (
        "a1_metrics", ("threshold = np.minimum(0.5, w * h / ((w + 10) * (h + 10)))", "threshold = 0.5"),
        "test_q3_small_box",
    ),
    "a1 no envelope": (
        "a1_metrics", ("envelope = np.maximum.accumulate(precision[::-1])[::-1]", "envelope = precision"),
        "test_q4_envelope",
    ),
    "a3 dilation ignored": (
        "a3_receptive_field", ("size + d * (k - 1) * stride", "size + (k - 1) * stride"),
        "test_q2_dilation",
    ),
    "a3 the box not clipped": (
        "a3_receptive_field", ("return (max(x1, 0), max(y1, 0), min(x1 + size, input_size), min(y1 + size, input_size))",
                               "return (x1, y1, x1 + size, y1 + size)"),
        "test_q3_hand_worked",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", OTHER_MISTAKES)
def test_a1_a3_public_tests_catch_plausible_mistakes(mistake):
    name, (old, new), test = OTHER_MISTAKES[mistake]
    solution = _source_solution(name)
    assert old in solution, old
    tests = _public_tests(name)
    assert _failures(solution, tests) == {}, "the solution passes every public test"
    failed = _failures(solution.replace(old, new), tests)
    assert test in failed, f"{mistake}: no public test caught it ({sorted(failed)})"
    assert "expected" in failed[test], failed[test]


# ----------------------------------------------------------------------------- grading

#: Wrong answers, each with the hidden tests it must fail (worked out by hand).
WRONG = {
    # q1: ties go to the higher index: fails the ties test (1 of 3 points).
    # q3: PASCAL's 0.5 for every box: passes the large-box scenes (thresholds are 0.5
    #     there), fails the small boxes (1 of 4). q4: VOC 2007's 11 points: fails both (3).
    "a1_metrics": {
        "topk_accuracy": """
def topk_accuracy(scores, labels, k=1):
    order = np.argsort(scores, axis=1)[:, ::-1]  # ties: the higher class index first
    return float((order[:, :k] == np.asarray(labels)[:, None]).any(axis=1).mean())
""",
        "match_detections": """
def match_detections(det_boxes, det_scores, gt_boxes):
    det_boxes, gt_boxes = np.asarray(det_boxes, float), np.asarray(gt_boxes, float)
    matched = np.full(len(det_boxes), -1, dtype=np.int64)
    iou = box_iou(det_boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    for d in np.argsort(-np.asarray(det_scores, float), kind="stable"):
        candidates = np.where(~taken & (iou[d] >= 0.5), iou[d], -1.0)  # PASCAL's 0.5 for all
        best = int(np.argmax(candidates))
        if candidates[best] >= 0:
            matched[d], taken[best] = best, True
    return matched
""",
        "average_precision": """
def average_precision(scores, is_true_positive, num_ground_truth):
    order = np.argsort(-np.asarray(scores, float), kind="stable")
    tp = np.cumsum(np.asarray(is_true_positive, bool)[order])
    if len(tp) == 0:
        return 0.0
    precision, recall = tp / np.arange(1, len(tp) + 1), tp / num_ground_truth
    return float(np.mean([precision[recall >= r].max() if (recall >= r).any() else 0.0
                          for r in np.linspace(0, 1, 11)]))  # VOC 2007's 11 points
""",
    },
    # q2: the transposed convolution forgets the stride: only the stride-2 test fails (1 of 4).
    "a2_deconvnet": {
        "project": """
def project(image, conv, channel, position):
    with torch.no_grad():
        forward = F.relu(conv(image))
        pooled, switches = F.max_pool2d(forward, 3, 2, return_indices=True)
        signal = torch.zeros_like(pooled)
        signal[0, channel, position[0], position[1]] = pooled[0, channel, position[0], position[1]]
        down = F.relu(unpool(signal, switches, forward.shape[2:]))
        return F.conv_transpose2d(down, conv.weight, padding=conv.padding)  # no stride
""",
    },
    # q2: dilation left out: only the dilation test fails (1 of 4);
    # q3: the box is not clipped to the image: the border units fail (1 of 2).
    "a3_receptive_field": {
        "receptive_field": """
def receptive_field(model):
    size, stride, start, fields = 1, 1, 0, []
    for layer in model:
        k, s, p, d = layer_geometry(layer)
        size, stride, start = size + (k - 1) * stride, stride * s, start - p * stride  # no d
        fields.append((size, stride, start))
    return fields
""",
        "unit_box": """
def unit_box(model, layer, position, input_size):
    size, stride, start = receptive_field(model)[layer]
    y1, x1 = start + position[0] * stride, start + position[1] * stride
    return (x1, y1, x1 + size, y1 + size)  # not clipped
""",
    },
}
#: Answers that use course_utils: as a name (q1) and only at run time (q4). Both get 0,
#: the other questions keep their points.
CHEATING = {
    "topk_accuracy": "import course_utils.metrics\n\ntopk_accuracy = course_utils.metrics.topk_accuracy\n",
    "average_precision": """
import importlib


def _ap(*args):
    return importlib.import_module("_".join(["course", "utils.metrics"])).average_precision(*args)


def average_precision(scores, is_true_positive, num_ground_truth):
    return _ap(scores, is_true_positive, num_ground_truth)
""",
}
EXPECTED = {
    "a1_metrics": {
        "reference": ({"q1": 3, "q2": 3, "q3": 4, "q4": 3}, "all tests passed"),
        "wrong": ({"q1": 2, "q2": 3, "q3": 3, "q4": 0}, "ties (the lower class index first)"),
        "cheating": ({"q1": 0, "q2": 3, "q3": 4, "q4": 0}, "No module named 'course_utils'"),
    },
    "a2_deconvnet": {
        "reference": ({"q1": 3, "q2": 4}, "all tests passed"),
        "wrong": ({"q1": 3, "q2": 3}, "expected shape (1, 3, 17, 17)"),
    },
    "a3_receptive_field": {
        "reference": ({"q1": 2, "q2": 4, "q3": 2}, "all tests passed"),
        "wrong": (
            {"q1": 2, "q2": 3, "q3": 1},
            "unit (0, 0), clipped to the image: expected [0, 0, ",
        ),
    },
}


def with_answers(solution: Path, answers: dict[str, str], target: Path) -> None:
    """The reference submission with the cells defining ``answers``' functions replaced."""
    notebook = json.loads(solution.read_text(encoding="utf-8"))
    replaced = set()
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        for function, answer in answers.items():
            if cell["cell_type"] == "code" and f"def {function}(" in source:
                cell["source"], cell["outputs"] = answer.strip() + "\n", []
                replaced.add(function)
    assert replaced == set(answers), f"no answer cell for {set(answers) - replaced}"
    target.write_text(json.dumps(notebook), encoding="utf-8")


def grade(name: str, folder: Path, *extra: str) -> subprocess.Popen:
    """``python -m grading`` on ``folder`` (the trusted grader, sandboxed), in the background."""
    seed = folder.parent / f"{folder.name}-seed.txt"
    seed.write_text(SEED, encoding="utf-8")
    command = [
        sys.executable, "-m", "grading", name, str(folder),
        "--out", str(folder.parent / f"{folder.name}-grades.csv"), "--seed-file", str(seed), *extra,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


@pytest.fixture(scope="module")
def graded(built, tmp_path_factory) -> dict[str, dict[str, dict]]:
    """Every assignment's submissions graded, all at once: {assignment: {submission: CSV row}}."""
    runs = {}
    for name in ASSIGNMENTS:
        folder = tmp_path_factory.mktemp(name)
        solution = built / "dist" / name / f"{name}-solution.ipynb"
        (folder / "reference.ipynb").write_bytes(solution.read_bytes())
        with_answers(solution, WRONG[name], folder / "wrong.ipynb")
        if name == "a1_metrics":
            with_answers(solution, CHEATING, folder / "cheating.ipynb")
            (folder / "broken.ipynb").write_text("not a notebook", encoding="utf-8")
        runs[name] = (folder, grade(name, folder, "--jobs", "2", "--timeout", "240"))
    # A submission that never ends, graded on its own with a short limit.
    looping = tmp_path_factory.mktemp("looping")
    solution = built / "dist" / "a1_metrics" / "a1_metrics-solution.ipynb"
    notebook = json.loads(solution.read_text(encoding="utf-8"))
    endless = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    notebook["cells"].insert(3, {**endless, "source": "while True:\n    pass\n"})
    (looping / "looping.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    runs["looping"] = (looping, grade("a1_metrics", looping, "--timeout", "30"))

    results = {}
    for name, (folder, process) in runs.items():
        log, _ = process.communicate(timeout=600)
        assert process.returncode == 0, log
        with open(folder.parent / f"{folder.name}-grades.csv", encoding="utf-8") as f:
            results[name] = {Path(row["submission"]).stem: row for row in csv.DictReader(f)}
    return results


@pytest.mark.parametrize(
    ("name", "submission"),
    [(name, submission) for name, expected in EXPECTED.items() for submission in expected],
)
def test_grades_are_the_scores_worked_out_by_hand(graded, name, submission):
    scores, message = EXPECTED[name][submission]
    row = graded[name][submission]
    got = {question: float(row[question]) for question in scores}
    assert got == scores, f"{submission}: {row['message']}"
    assert float(row["total"]) == sum(scores.values())
    full = sum(EXPECTED[name]["reference"][0].values())
    assert float(row["possible"]) == full
    assert message in row["message"]


def test_a_submission_using_course_utils_is_told_why(graded):
    message = graded["a1_metrics"]["cheating"]["message"]
    # course_utils is not in the sandbox: q1's import fails (so topk_accuracy is never
    # defined), q4's function fails when it runs
    assert "q1 q1_random: NameError: topk_accuracy is not defined" in message
    assert "q4 q4_random: ModuleNotFoundError: No module named 'course_utils'" in message
    assert "cell 3: ModuleNotFoundError: No module named 'course_utils'" in message


def test_a_stray_loop_costs_its_cell_and_a_broken_file_gets_a_row(graded):
    looping = graded["looping"]["looping"]
    assert float(looping["total"]) == 13, looping["message"]  # the loop cell is left after 10 s
    broken = graded["a1_metrics"]["broken"]
    assert float(broken["total"]) == 0 and "neither a notebook nor Python" in broken["message"]
    assert broken["possible"] == "13.00" and broken["mode"] == "not run"


def test_the_book_page_opens_every_assignment_from_this_repository():
    text = (ROOT / "book" / "assignments.md").read_text(encoding="utf-8")
    _, branch = make.repository()
    for name in ASSIGNMENTS:
        link = (
            f"https://colab.research.google.com/github/{make.owner_and_name()}/blob/{branch}"
            f"/assignments/student/{name}/{name}.ipynb"
        )
        assert link in text, f"book/assignments.md has no Colab link to {name}"
    named = set(re.findall(r"colab\.research\.google\.com/github/([\w-]+/[\w-]+)", text))
    assert named - {"OWNER/REPOSITORY"} == {make.owner_and_name()}, "run sync_repository_url.py"
