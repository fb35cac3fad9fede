"""course_utils installs as a package with its data (as it does on Colab, from git)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def test_wheel_holds_every_data_file(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    data = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "course_utils").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    missing = sorted(set(data) - packed)
    assert not missing, f"the wheel lacks {missing}: add their extension to package-data"
