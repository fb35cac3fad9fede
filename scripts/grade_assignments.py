"""Grade a folder of submissions in the sandbox: the same as ``python -m grading``.

    python scripts/grade_assignments.py a1_metrics submissions/ --seed-file ~/grading-seed.txt
    python scripts/grade_assignments.py a2_deconvnet canvas/ --lms canvas --jobs 2

Kept so that the command of earlier terms still works; ``python -m grading --help`` and
``book/assignments.md`` say everything.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grading.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
