"""The graded assignments: generation, what students get, and grading (otter-grader).

From the instructor sources in assignments/source/, scripts/make_assignments.py is run
into a temporary folder; the student versions must equal the committed ones and hold
no solution text; then scripts/grade_assignments.py grades, for every assignment, the
reference submission (full marks) and a wrong one whose score is worked out by hand
from the tests it must fail, plus, for assignment 1, a submission that uses
course_utils, one that loops forever and one that is not a notebook.
"""

import csv
import importlib.util
import inspect
import json
import re
import subprocess
import sys
import time
import types
import zipfile
from pathlib import Path

import numpy as np
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
support = load(SOURCE / "grading_support.py", "grading_support")


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
        assert "hidden=True" not in text and "grading_support" not in text, f"{file}: hidden test"
    notebook = json.loads(texts[f"{name}.ipynb"])
    answers = [c for c in notebook["cells"] if "otter_answer_cell" in c["metadata"].get("tags", [])]
    assert answers and all("    ..." in c["source"] for c in answers), "answer cells end in ..."


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_autograder_holds_every_test_time_limited_and_grading_support(built, name):
    with zipfile.ZipFile(built / "dist" / name / "autograder.zip") as zipped:
        names = zipped.namelist()
        tests = {n: zipped.read(n).decode() for n in names if n.startswith("tests/")}
    assert "files/grading_support.py" in names
    public = sorted((ROOT / "assignments" / "student" / name / "tests").glob("*.py"))
    assert sorted(tests) == [f"tests/{p.name}" for p in public], "one test file per question"
    for file, text in tests.items():
        cases = text.count("@test_case(")
        assert text.count("hidden=True") >= 1, f"{file} has no hidden test"
        assert text.count("@time_limited") == cases, f"{file}: a test without a time limit"
        assert re.findall(r"@test_case\(points=0, hidden=False\)", text), f"{file}: no public test"


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


# ----------------------------------------------------------------------------- grading_support


def test_hidden_inputs_follow_the_instructors_seed(monkeypatch):
    monkeypatch.setenv(support.SEED_VARIABLE, "one")
    first = support.rng("t").normal(size=3)
    assert np.array_equal(first, support.rng("t").normal(size=3)), "same seed, same inputs"
    assert not np.array_equal(first, support.rng("u").normal(size=3)), "each test its own inputs"
    monkeypatch.setenv(support.SEED_VARIABLE, "two")
    assert not np.array_equal(first, support.rng("t").normal(size=3)), "another seed, other inputs"


def own_iou(a, b):
    return np.minimum(a, b)


def test_course_utils_is_found_in_aliases_helpers_and_closures():
    import course_utils
    from course_utils.metrics import box_iou

    def helper(a, b):
        return course_utils.metrics.box_iou(a, b)

    def through_helper(a, b):
        return helper(a, b)

    def closure():
        return box_iou

    assert support.course_utils_references(box_iou) == ["box_iou"]
    assert "course_utils" in support.course_utils_references(through_helper)
    assert support.course_utils_references(closure) == ["box_iou"]
    assert support.course_utils_references(own_iou) == []
    assert support.course_utils_references(lambda: __import__("course_utils")) == ["'course_utils'"]


def test_course_utils_running_inside_an_answer_is_caught():
    def hidden(a, b):  # no name or string of course_utils: only running it gives it away
        return importlib.import_module("_".join(["course", "utils.metrics"])).box_iou(a, b)

    boxes = np.array([[0.0, 0.0, 2.0, 2.0]])
    with pytest.raises(AssertionError, match="ran course_utils code"):
        support.run_own(hidden, boxes, boxes)
    assert np.array_equal(support.run_own(own_iou, boxes, boxes), boxes)
    with pytest.raises(AssertionError, match="expected a function"):
        support.run_own(None)


def test_a_test_that_runs_too_long_is_stopped(monkeypatch):
    monkeypatch.setattr(support, "TIME_LIMIT", 0.2)

    @support.time_limited
    def looping(topk_accuracy):
        while True:
            pass

    assert list(inspect.signature(looping).parameters) == ["topk_accuracy"], "otter reads these"
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="ran longer than 0.2 s"):
        looping(None)
    assert time.monotonic() - start < 2


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
        "wrong": ({"q1": 2, "q2": 3, "q3": 3, "q4": 0}, "ties are broken the wrong way"),
        "cheating": ({"q1": 0, "q2": 3, "q3": 4, "q4": 0}, "course_utils"),
    },
    "a2_deconvnet": {
        "reference": ({"q1": 3, "q2": 4}, "all tests passed"),
        "wrong": ({"q1": 3, "q2": 3}, "expected shape (1, 3, 17, 17)"),
    },
    "a3_receptive_field": {
        "reference": ({"q1": 2, "q2": 4, "q3": 2}, "all tests passed"),
        "wrong": ({"q1": 2, "q2": 3, "q3": 1}, "unit (0, 0): expected (0, 0, "),
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


def grade(built: Path, name: str, folder: Path, *extra: str) -> subprocess.Popen:
    command = [
        sys.executable, str(ROOT / "scripts" / "grade_assignments.py"), name, str(folder),
        "--autograder", str(built / "dist" / name / "autograder.zip"),
        "--out", str(folder / "grades"), "--seed", SEED, *extra,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


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
        runs[name] = (folder, grade(built, name, folder, "--jobs", "2", "--timeout", "240"))
    # A submission that never ends, graded on its own with a short limit.
    looping = tmp_path_factory.mktemp("looping")
    solution = built / "dist" / "a1_metrics" / "a1_metrics-solution.ipynb"
    notebook = json.loads(solution.read_text(encoding="utf-8"))
    endless = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    notebook["cells"].insert(3, {**endless, "source": "while True:\n    pass\n"})
    (looping / "looping.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    runs["looping"] = (looping, grade(built, "a1_metrics", looping, "--timeout", "20"))

    results = {}
    for name, (folder, process) in runs.items():
        log, _ = process.communicate(timeout=600)
        assert process.returncode == 0, log
        with open(folder / "grades" / "grades.csv", encoding="utf-8") as f:
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
    assert "q1: AssertionError: topk_accuracy uses course_utils" in message
    assert "q4: AssertionError: average_precision ran course_utils code" in message


def test_a_submission_that_loops_or_is_broken_gets_zero_and_a_message(graded):
    looping = graded["looping"]["looping"]
    assert float(looping["total"]) == 0 and "stopped after 20 s" in looping["message"]
    assert float(looping["possible"]) == 13 and float(looping["q4"]) == 0, "points from the zip"
    broken = graded["a1_metrics"]["broken"]
    assert float(broken["total"]) == 0 and "grading failed" in broken["message"]
    assert float(broken["possible"]) == 13


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
