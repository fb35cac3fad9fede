"""pytest configuration shared by the unit tests and the notebook run (nbval).

Notebooks are stored without outputs (the book executes them at build time),
so the expected output of each cell tagged ``nbval-check-output`` is kept
beside the tests, in ``tests/notebook_outputs/<notebook>.json`` (cell id ->
outputs), written by ``python scripts/record_notebook_outputs.py``. Here we
hand those recorded outputs to nbval as the cells' reference outputs.
"""

import json
from pathlib import Path

import nbformat
from nbval.plugin import IPyNbFile

from scripts.record_notebook_outputs import CHECK_TAG, is_checked

ROOT = Path(__file__).parent
RECORDED = ROOT / "tests" / "notebook_outputs"

_nbval_collect = IPyNbFile.collect


def _collect_with_recorded_outputs(self):
    path = RECORDED / f"{Path(self.fspath).stem}.json"
    recorded = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for item in _nbval_collect(self):
        if is_checked(item.cell):
            if item.cell.get("id") not in recorded:
                raise ValueError(
                    f"{self.fspath}: a cell tagged '{CHECK_TAG}' (id {item.cell.get('id')}) has no "
                    f"recorded output in {path}; run scripts/record_notebook_outputs.py"
                )
            item.cell.outputs = nbformat.from_dict(recorded[item.cell["id"]])
            item.cell.execution_count = 1  # nbval ignores outputs of cells marked "never run"
        yield item


IPyNbFile.collect = _collect_with_recorded_outputs
