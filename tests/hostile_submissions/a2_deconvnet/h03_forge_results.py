# Attack (issue 20): find the grading process, write a perfect result file where the
# grader reads results, kill the grader and exit. Here: read the request, write a result
# file for every call (zeros of the expected shape; a link to a file outside; a pickle),
# a forged load report, kill every process it can see and os._exit(0) before any call.
# Expected: 0 points; the grader is unharmed and reads no link or pickle.
import json
import os
import pickle
import signal
from pathlib import Path

import numpy as np

out = Path("out")
request = json.loads(Path("request.json").read_text())
for index, call in enumerate(request["calls"]):
    target = out / f"{call['id']}.npy"
    if index == 0:
        os.symlink("/etc/hostname", target)
    elif index == 1:
        target.write_bytes(pickle.dumps({"score": 100}))
    else:
        np.save(target, np.zeros((1, 3, 15, 15), np.float32))
(out / "load.json").write_text(json.dumps({"problems": [], "score": "7/7"}))
Path("results.json").write_text(json.dumps({"tests": [{"name": "q1", "score": 3}]}))
try:
    import psutil

    for process in psutil.process_iter():
        if process.pid != os.getpid():
            try:
                process.kill()
            except Exception:
                pass
except ImportError:
    pass
for pid in range(1, 200):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
os._exit(0)
