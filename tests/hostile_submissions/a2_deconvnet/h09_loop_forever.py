# Attack: an endless loop that ignores the alarm of the per-call time limit.
# Expected: 0 points, and it costs the wall-clock limit of one submission, no more.
import signal
import time

signal.signal(signal.SIGALRM, signal.SIG_IGN)
signal.setitimer = lambda *args: None


def unpool(pooled, switches, output_size):
    while True:
        time.sleep(0.1)


def project(image, conv, channel, position):
    while True:
        pass
