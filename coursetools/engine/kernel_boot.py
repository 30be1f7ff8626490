"""The first process in a sandboxed kernel's sandbox: it loads what the kernel and the recheck both
need, forks the kernel, and keeps itself, untouched by student code, for the recheck's rerun.

Runs inside the sandbox as `python -c SOURCE PLAN_FD REPORT_FD -f CONNECTION_FILE`
(`sandbox_kernel.py` starts it), so it imports nothing from the course.

Why: the rerun on secret inputs (`recheck.py`) used to start a sandbox and
a Python of its own after the kernel had finished, and pay again for NumPy
and IPython: a quarter of a hand-in's CPU. This process has loaded them
before any student code ran, and forks the kernel from that state; it
stays behind as pristine as it was, and runs the rerun when asked.

Student code cannot reach it. It is not dumpable, so no process of the
sandbox may read its memory or its file descriptors (Linux asks for a
capability the sandbox's processes do not have). The kernel runs in a
session of its own. The grader's commands come on PLAN_FD, one byte each:

- `K`: the notebook has run; stop the kernel and wait on.
- `R`: the rerun follows (the runner's source, length first, then its plan).
  The kernel is stopped, every other process in the sandbox is killed, and
  `/tmp` and `/dev/shm` are cleared of what the kernel wrote, so the rerun
  starts as a fresh sandbox would; the runner then reads its plan on stdin
  and reports on REPORT_FD.
- end of file: stop the kernel and end the sandbox.

With PLAN_FD -1 (a kernel started outside grading, by Jupyter itself),
it simply becomes the kernel.
"""

import ctypes
import errno
import os
import select
import signal
import stat
import sys
import time
import types

PR_SET_DUMPABLE = 4
# Once the kernel is gone, how long the rerun may keep this sandbox waiting: the recheck runs
# right after the notebook, so this only ends a sandbox a broken grader forgot
RERUN_WAIT = 600
SCRATCH_FOLDERS = ("/tmp", "/dev/shm")
IGNORED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


def set_dumpable(value: int) -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def run_kernel(kernel_args: list[str]) -> None:
    """Become the IPython kernel, as `python -m ipykernel_launcher ARGS` would."""
    import runpy

    sys.argv = ["ipykernel_launcher", *kernel_args]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def read_exactly(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def stop_kernel(kernel: int) -> None:
    try:
        os.killpg(kernel, signal.SIGKILL)  # the kernel leads a session and group of its own
    except ProcessLookupError:
        pass
    try:
        os.waitpid(kernel, 0)
    except ChildProcessError:
        pass


def end_every_other_process() -> None:
    """Kill what the student's code left running: everything in this sandbox but its init and this process."""
    for _ in range(1000):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:  # nothing left to signal, zombies included: the sandbox is quiet
            return
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.002)  # orphans are reaped by the sandbox's init


def clear(folder: str) -> None:
    """Remove what the kernel wrote under `folder`, however deep, leaving mounts (the read-only
    companion files) and what the sandbox made (the kernel's folder) as they are.

    Walks by changing folder, not by path or descriptor: the student may have
    nested folders past any path length or descriptor limit. Nothing else runs
    in the sandbox by now, so nothing changes underneath.
    """
    try:
        os.chdir(folder)
        device = os.stat(".").st_dev
    except OSError:
        return
    depth, kept = [], set()  # names from `folder` down to here; folders that cannot go
    while True:
        deeper = None
        for entry in os.scandir("."):
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_dev != device or (info.st_dev, info.st_ino) in kept:
                continue  # a mount, or a folder that stays
            try:
                if stat.S_ISDIR(info.st_mode):
                    os.rmdir(entry.name)
                else:
                    os.unlink(entry.name)
            except OSError as error:
                if error.errno == errno.ENOTEMPTY:
                    deeper = entry.name
                    break
                if stat.S_ISDIR(info.st_mode):
                    kept.add((info.st_dev, info.st_ino))
        if deeper is not None:
            os.chdir(deeper)
            depth.append(deeper)
            continue
        if not depth:
            return
        here = os.stat(".")
        os.chdir("..")
        try:
            os.rmdir(depth.pop())
        except OSError:
            kept.add((here.st_dev, here.st_ino))


def rerun(plan_fd: int, report_fd: int) -> None:
    """Run the recheck's runner in this process, as `python -c RUNNER` with the plan on stdin would."""
    length = int.from_bytes(read_exactly(plan_fd, 8), "big")
    source = read_exactly(plan_fd, length).decode()
    end_every_other_process()
    for folder in SCRATCH_FOLDERS:
        try:
            clear(folder)
        except Exception:  # noqa: BLE001 (a leftover costs the rerun nothing it had in the kernel)
            pass
    os.chdir("/tmp")
    for name in IGNORED_SIGNALS:  # as a fresh process has them
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ["MPLBACKEND"] = "Agg"  # the runner's environment, not the kernel's inline backend
    os.dup2(plan_fd, 0)
    os.dup2(report_fd, 1)
    os.close(plan_fd)
    os.close(report_fd)
    main = types.ModuleType("__main__")
    sys.modules["__main__"], sys.argv = main, ["-c"]
    exec(compile(source, "<recheck runner>", "exec"), vars(main))


def wait_for_commands(kernel: int, plan_fd: int, report_fd: int) -> None:
    deadline = None
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not select.select([plan_fd], [], [], timeout)[0]:
            stop_kernel(kernel)
            return
        command = os.read(plan_fd, 1)
        stop_kernel(kernel)
        if command == b"K":
            deadline = time.monotonic() + RERUN_WAIT
            continue
        if command == b"R":
            rerun(plan_fd, report_fd)
        return


def main() -> None:
    plan_fd, report_fd, kernel_args = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    # Grading has no debugger, and ipykernel would load debugpy at start: a fifth of its start-up
    sys.modules["debugpy"] = None
    if plan_fd < 0:
        run_kernel(kernel_args)
        return
    set_dumpable(0)  # before anything else can run here; the kernel turns it back on for itself
    # Loaded once, for both: the kernel gets them by the fork, the rerun already has them. Never from
    # the working folder: a hand-in's own `numpy.py` must not run here.
    working_folder = sys.path.pop(0) if sys.path and sys.path[0] in ("", os.getcwd()) else None
    import IPython.core.interactiveshell  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import numpy  # noqa: F401

    if working_folder is not None:
        sys.path.insert(0, working_folder)

    kernel = os.fork()
    if kernel == 0:
        os.close(plan_fd)
        os.close(report_fd)
        os.setsid()  # the student's `killpg` reaches the kernel's group, never this process
        set_dumpable(1)  # the grader reaches the kernel's sockets through /proc/<kernel>/root
        run_kernel(kernel_args)
        return
    for name in IGNORED_SIGNALS:  # what a student's stray kill sends does not end the rerun's process
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    wait_for_commands(kernel, plan_fd, report_fd)


main()
