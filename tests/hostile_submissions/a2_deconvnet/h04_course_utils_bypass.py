# Attack (issue 20): call course_utils (the course's own implementation) past the ban:
# sys.setprofile(None) around importlib.import_module(NAME) with NAME a global string,
# or from a thread (a profiler sees the current thread only), or by finding its source
# on disk and running it. It uses course_utils only where that works.
# Expected: 0 points (course_utils is neither importable nor visible in the sandbox).
import importlib
import os
import sys
import threading

import torch

NAME = "course" + "_utils"
found = {}


def _load():
    sys.setprofile(None)
    try:
        found["module"] = importlib.import_module(NAME + ".unpooling")
    except Exception:
        pass


thread = threading.Thread(target=_load)
thread.start()
thread.join()
if "module" not in found:
    for root in ["/", "/work", "/root"]:
        for folder, dirs, files in os.walk(root):
            if folder.startswith(("/proc", "/sys")):
                dirs[:] = []
            if "unpooling.py" in files and NAME in folder:
                sys.path.insert(0, os.path.dirname(folder))
                try:
                    found["module"] = importlib.import_module(NAME + ".unpooling")
                except Exception:
                    pass


def unpool(pooled, switches, output_size):
    if "module" in found:
        return found["module"].unpool(pooled, switches, output_size)
    raise RuntimeError("course_utils is not reachable")


def project(image, conv, channel, position):
    if "module" in found:
        return torch.zeros_like(image)  # it would go on with DeconvNet
    raise RuntimeError("course_utils is not reachable")
