"""Run one submission's code in a sandbox: bubblewrap, limits, a clean environment.

The student's code runs in a process of its own, inside ``bwrap`` (bubblewrap, the
sandbox of Flatpak) with:

* every namespace unshared (``--unshare-all``): no network, its own PID namespace, so
  that every process it starts dies when its first process does (``--die-with-parent``
  ties that one to the grader), and a new session (``--new-session``: no terminal);
* a filesystem of read-only system folders (``/usr``), the Python it runs (the grading
  environment's virtual environment and the interpreter it was made from), a private
  ``/tmp``, and one writable folder of its own: a copy of its code, the grader's
  request and input arrays, and ``out/`` for its results. Nothing else: not the other
  submissions, the repository, the grades, the seed or the hidden tests;
* an environment of four variables (``--clearenv``);
* per-process limits set before ``bwrap`` starts: ``RLIMIT_DATA`` (heap, in bytes),
  ``RLIMIT_CPU`` (seconds), ``RLIMIT_FSIZE`` (the largest file it may write), and a
  wall clock enforced by the grader, which kills the sandbox (and with it, through the
  PID namespace, everything inside).

What it does not limit: the total memory of several processes (each gets
``RLIMIT_DATA``; there is no cgroup here), the number of processes (``RLIMIT_NPROC`` does
not bind root), disk space written under its folder beyond one file's ``RLIMIT_FSIZE``
per file. See ``book/assignments.md`` for what was tried.

Without bubblewrap (macOS, Windows, a kernel or AppArmor profile that forbids user
namespaces) :func:`check_bwrap` says why and grading refuses unless the instructor asks
for ``mode="unsafe"``: the student's code then runs in a plain subprocess with a clean
environment and the same limits, and can read (and write) whatever the grader's user can.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: The modes a submission can be graded in (written in the grades' ``mode`` column).
SANDBOX, UNSAFE, CONTAINER = "bwrap", "unsafe-no-sandbox", "container-as-nobody"
RUNNER = Path(__file__).with_name("runner.py")
MiB = 1 << 20


@dataclass
class Limits:
    """Resource limits of one submission's run."""

    #: wall-clock seconds for the whole run (loading the notebook and every call)
    wall_seconds: float = 120.0
    #: CPU seconds per process (RLIMIT_CPU)
    cpu_seconds: int = 120
    #: heap bytes per process (RLIMIT_DATA). RLIMIT_AS is not used: below about 3.5 GB
    #: of address space the CUDA build of torch cannot even be imported.
    data_bytes: int = 2048 * MiB
    #: the largest file a process may write (RLIMIT_FSIZE)
    file_bytes: int = 64 * MiB
    #: seconds one call of a student's function may take (an alarm inside the sandbox;
    #: a submission that ignores it still stops at ``wall_seconds``)
    call_seconds: float = 10.0
    #: seconds each of the notebook's cells may run before the calls (a stray loop in an
    #: exploration cell costs this, and the functions are still graded)
    load_seconds: float = 20.0


@dataclass
class Outcome:
    """What came back from one run: the exit status, whether the wall clock stopped it, its log."""

    returncode: int
    timed_out: bool
    seconds: float
    log: str


def _python_roots() -> list[Path]:
    """Folders the sandbox needs to run this Python: its prefix (a venv) and the base interpreter."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    executable = Path(sys.executable)
    roots.add(executable.resolve().parent.parent)
    return sorted(roots)


def bwrap_command(workdir: Path) -> list[str]:
    """The bubblewrap command line that runs the runner on ``workdir`` (mounted at /sandbox)."""
    command = [
        "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
        "--proc", "/proc", "--dev", "/dev",
        "--tmpfs", "/tmp",  # before any bind under /tmp
    ]  # fmt: skip
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            command += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            command += ["--ro-bind", str(target), str(target)]
    for root in _python_roots():
        if not str(root).startswith("/usr"):
            command += ["--ro-bind", str(root), str(root)]
    python = str(Path(sys.prefix) / "bin" / "python") if sys.prefix != sys.base_prefix else None
    command += [
        "--bind", str(workdir), "/sandbox", "--chdir", "/sandbox",
        "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp",
        "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MPLBACKEND", "Agg",
        python or sys.executable, "-I", "-B", "/sandbox/runner.py", "/sandbox",
    ]  # fmt: skip
    return command


def unsafe_command(workdir: Path) -> list[str]:
    """The command that runs the runner without a sandbox (only with the unsafe flag)."""
    return [sys.executable, "-I", "-B", str(workdir / "runner.py"), str(workdir)]


def check_bwrap() -> str | None:
    """None if bubblewrap can run a sandbox here; otherwise why not (one line)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64"):
        target = Path("/") / link
        if target.is_symlink():
            probe += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            probe += ["--ro-bind", str(target), str(target)]
    done = subprocess.run([*probe, "true"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return (
            f"bubblewrap cannot create a sandbox here ({reason}); on Ubuntu 24.04 and later,"
            " AppArmor forbids unprivileged user namespaces: see book/assignments.md"
        )
    return None


def _limit(limits: Limits):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (limits.data_bytes, limits.data_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run(workdir: Path, limits: Limits, mode: str = SANDBOX) -> Outcome:
    """Run the runner on ``workdir`` under ``limits``; every process it started is gone on return."""
    (workdir / "out").mkdir(exist_ok=True)
    shutil.copyfile(RUNNER, workdir / "runner.py")
    command = bwrap_command(workdir) if mode == SANDBOX else unsafe_command(workdir)
    user = None
    if mode == CONTAINER:
        import pwd

        nobody = pwd.getpwnam("nobody")
        user = (nobody.pw_uid, nobody.pw_gid)
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, *user, follow_symlinks=False)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "OMP_NUM_THREADS": "1"}
    start = time.monotonic()
    # The log goes to a file outside the submission's folder, not a pipe: a submission
    # that prints gigabytes meets RLIMIT_FSIZE instead of filling the grader's memory.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one below
            preexec_fn=_limit(limits),  # noqa: PLW1509 - only setrlimit, before exec
            # Gradescope without bubblewrap: the unprivileged user nobody
            user=user[0] if user else None,
            group=user[1] if user else None,
            extra_groups=[] if user else None,
        )
        timed_out = False
        try:
            process.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill_group(process.pid)  # bwrap and, through its PID namespace, all inside
        process.wait()
        if user is not None:
            _kill_user(user[0])
        log.seek(max(0, log.seek(0, os.SEEK_END) - 4000))
        text = log.read().decode("utf-8", "replace")
    return Outcome(process.returncode, timed_out, time.monotonic() - start, text)


def _kill_user(uid: int) -> None:
    """Kill every process of ``uid`` (Gradescope's container: only the submission runs as nobody)."""
    import psutil

    for process in psutil.process_iter(["uids"]):
        if process.info["uids"] and process.info["uids"].real == uid:
            try:
                process.kill()
            except psutil.Error:
                pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
