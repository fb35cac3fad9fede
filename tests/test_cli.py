"""``python -m course_utils add`` never loses exercises: atomic writes and a lock (issue 24)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import course_utils
import course_utils._files as files
from course_utils.__main__ import main

ROOT = Path(course_utils.__file__).resolve().parents[1]
ADD = ["add", "--kind", "integer", "--question", "q?", "--hint", "h."]


def _add(exercise_id, path):
    return [ADD[0], exercise_id, "3", *ADD[1:], "--file", str(path)]


def _python(code, *args, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _exercises(tmp_path):
    """A copy of the course's own exercises file: what an instructor would lose."""
    path = tmp_path / "exercises.json"
    path.write_bytes((ROOT / "course_utils" / "_data" / "exercises.json").read_bytes())
    return path


def _limit_file_size(limit):
    def apply():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails: EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_write_that_fails_midway_leaves_the_old_file_intact(tmp_path):
    """A quota (RLIMIT_FSIZE, like a full disk) stops the write after ``limit`` bytes."""
    path = _exercises(tmp_path)
    before = path.read_bytes()
    code = "import sys; from course_utils.__main__ import main; main(sys.argv[1:])"
    process = _python(code, *_add("x-new", path), preexec_fn=_limit_file_size(len(before) // 2))
    _, err = process.communicate(timeout=120)
    assert path.read_bytes() == before and json.loads(before)  # still the old, valid file
    assert process.returncode == 2 and "Traceback" not in err
    assert f"cannot write {path}" in err and "unchanged" in err and "x-new was not added" in err
    assert [p.name for p in tmp_path.iterdir()] == ["exercises.json"]  # no temporary file left


def test_a_failure_after_writing_leaves_no_temporary_file(tmp_path, monkeypatch, capsys):
    path = _exercises(tmp_path)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", disk_full)
    with pytest.raises(SystemExit):
        main(_add("x-new", path))
    assert "No space left on device" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_two_adds_at_once_keep_both_records(tmp_path):
    """Both processes read the file before either writes, unless the lock makes one wait."""
    path = tmp_path / "exercises.json"
    path.write_text("{}\n", encoding="utf-8")
    go = tmp_path / "go"
    code = (
        "import sys, time, pathlib\n"
        "import course_utils.__main__ as cli\n"
        "real = cli.record_hashes\n"
        "def slow(*a, **k):\n"
        "    time.sleep(0.5)  # between reading the file and writing it back\n"
        "    return real(*a, **k)\n"
        "cli.record_hashes = slow\n"
        "pathlib.Path(sys.argv[1]).touch()\n"
        "while not pathlib.Path(sys.argv[2]).exists():\n"
        "    time.sleep(0.01)\n"
        "cli.main(sys.argv[3:])\n"
    )
    ids = ["x-first", "x-second"]
    ready = [tmp_path / f"ready-{i}" for i in ids]
    processes = [_python(code, r, go, *_add(i, path)) for r, i in zip(ready, ids, strict=True)]
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.02)
    go.touch()  # both start their add within milliseconds
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert sorted(json.loads(path.read_text(encoding="utf-8"))) == ids


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only file")
def test_a_read_only_file_is_not_replaced(tmp_path, capsys):
    path = tmp_path / "exercises.json"
    path.write_text("{}\n", encoding="utf-8")
    path.chmod(0o444)
    try:
        with pytest.raises(SystemExit):
            main(_add("x-1", path))
    finally:
        path.chmod(0o644)
    assert "cannot write" in capsys.readouterr().err and path.read_text() == "{}\n"


def test_atomic_write_keeps_permissions_and_cleans_up_on_error(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old\n")
    path.chmod(0o640)
    with pytest.raises(RuntimeError), files.atomic_write(path) as f:
        f.write("new, partial")
        raise RuntimeError("the caller failed midway")
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]
    with files.atomic_write(path) as f:
        f.write("new\n")
    assert path.read_text() == "new\n" and path.stat().st_mode & 0o777 == 0o640
