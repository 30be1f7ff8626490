"""The first process in a sandboxed kernel's sandbox: it loads what the kernel and the recheck both
need, forks the kernel, and keeps itself, untouched by student code, for the recheck's rerun.

Runs inside the sandbox as `python -P -s -c SOURCE PLAN_FD REPORT_FD -f CONNECTION_FILE`
(`sandbox_kernel.py` starts it), so it imports nothing from the course, and
nothing from the working folder either, where a hand-in's own `select.py`
could be: the kernel and the rerun put that folder on `sys.path` for
themselves, once this process's own imports are done.

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
IGNORED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGTSTP", "SIGTTIN", "SIGTTOU")
IPC_RMID = 0


def set_dumpable(value: int) -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def run_kernel(kernel_args: list[str]) -> None:
    """Become the IPython kernel, as `python -m ipykernel_launcher ARGS` would."""
    import runpy

    # The working folder, where IPython puts it in a kernel started as usual: after the standard
    # library, before the installed packages (IPython leaves it out itself under -P)
    site = next((i for i, path in enumerate(sys.path) if os.path.basename(path) in ("site-packages", "dist-packages")),
                0)
    sys.path.insert(site, "")
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
    """Remove what the kernel wrote under `folder`, however deep or locked, leaving mounts (the
    read-only companion files) and what the sandbox made (folders of root's) in place.

    Walks by changing folder, one pass per folder, with no descriptor held
    open: the student may have nested folders past any path length or
    descriptor limit, by the thousand. Folders the student locked are opened
    up first (this process owns them). Nothing else runs in the sandbox by
    now, so nothing changes underneath, and no error ends the walk.
    """
    try:
        os.chdir(folder)
        device = os.stat(".").st_dev
    except OSError:
        return
    pending = [(iter(listing(".")), None)]  # per level: the names left to look at, the level's own name
    while pending:
        names, here = pending[-1]
        name = next(names, None)
        if name is None:
            pending.pop()
            if here is not None:
                os.chdir("..")
                try:
                    os.rmdir(here)
                except OSError:
                    pass  # it holds something that stays
            continue
        try:
            info = os.lstat(name)
            if info.st_dev != device:
                continue  # a mount
            if not stat.S_ISDIR(info.st_mode):
                os.unlink(name)
                continue
            if info.st_uid == os.getuid():
                os.chmod(name, 0o700)
            os.chdir(name)
        except OSError:
            continue
        pending.append((iter(listing(".")), name))


def listing(folder: str) -> list:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def remove_shared_memory() -> None:
    """Remove the System V shared memory, semaphores and message queues the kernel made (the sandbox
    has an IPC namespace of its own: they are all the student's)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for kind, remove in (("shm", lambda i: libc.shmctl(i, IPC_RMID, None)),
                         ("sem", lambda i: libc.semctl(i, 0, IPC_RMID)),
                         ("msg", lambda i: libc.msgctl(i, IPC_RMID, None))):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                ids = [int(line.split()[1]) for line in table.readlines()[1:] if line.split()]
        except (OSError, ValueError, IndexError):
            continue
        for ipc_id in ids:
            remove(ipc_id)


def quietly(tidy, *args) -> None:
    try:
        tidy(*args)
    except Exception:  # noqa: BLE001 (whatever is left, the rerun's cells mostly make anew)
        pass


def rerun(plan_fd: int, report_fd: int) -> None:
    """Run the recheck's runner in this process, as `python -c RUNNER` with the plan on stdin would."""
    length = int.from_bytes(read_exactly(plan_fd, 8), "big")
    source = read_exactly(plan_fd, length).decode()
    end_every_other_process()
    for folder in SCRATCH_FOLDERS:
        quietly(clear, folder)
    quietly(remove_shared_memory)
    os.chdir("/tmp")
    sys.path.insert(0, "")  # the working folder, as `python -c` has it, for the student's own modules
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
    """The kernel is stopped at the grader's first word (or its end); a rerun asked for runs here."""
    command = os.read(plan_fd, 1)
    stop_kernel(kernel)
    if command == b"K" and select.select([plan_fd], [], [], RERUN_WAIT)[0]:
        command = os.read(plan_fd, 1)
    if command == b"R":
        rerun(plan_fd, report_fd)


def main() -> None:
    plan_fd, report_fd, kernel_args = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    # Grading has no debugger, and ipykernel would load debugpy at start: a fifth of its start-up
    sys.modules["debugpy"] = None
    if plan_fd < 0:
        run_kernel(kernel_args)
        return
    set_dumpable(0)  # before anything else can run here; the kernel turns it back on for itself
    # Loaded once, for both: the kernel gets them by the fork, the rerun already has them
    import IPython.core.interactiveshell  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import numpy  # noqa: F401

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
    try:
        wait_for_commands(kernel, plan_fd, report_fd)
    finally:
        os._exit(0)  # at once: the sandbox ends with this process, and nothing here needs tidying


main()
