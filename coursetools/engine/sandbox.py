"""The bubblewrap sandbox that every run of student code goes through.

Two things run student code during grading: the kernel that nbgrader
executes the hand-in in (started by `sandbox_kernel.py`, the `course-sandbox`
kernelspec) and the recheck that runs it again on secret inputs
(`recheck.py`). Both build their sandbox here, so both get the same view of
the machine and the same limits:

- visible: read-only system files and the Python environment, a private
  writable `/tmp` that is also the working folder (where the kernel keeps
  its sockets too) and vanishes with the sandbox, and the notebook's
  companion files in it, read-only; no course folder, gradebook, home
  directory or network, and no folder outside that it can write to;
- limits: memory, CPU time, processes and file size (`LIMITS`);
- user: a root grader sets the sandbox up as root and runs the code as
  an unprivileged user with no capabilities: `nobody`, or, in a grading
  worker, a user id of the worker's own (`sandbox_uid`), so that the
  process limit, which Linux counts per user, is each hand-in's alone.

bubblewrap needs no daemon, unlike Docker, and works for root and for
unprivileged users wherever Linux user namespaces are enabled.
"""

import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

KERNEL_NAME = "course-sandbox"
KERNEL_UID = KERNEL_GID = 65534  # nobody
# A grading worker runs its sandboxes as user SANDBOX_UID_BASE + its process id, set in this
# variable: Linux counts RLIMIT_NPROC per user, so sandboxes sharing `nobody` would share one
# count, and one hand-in holding its processes could stop another's kernel from starting.
# The range is far above any account, system or container range (ids need no account).
SANDBOX_UID_VARIABLE = "COURSE_SANDBOX_UID"
SANDBOX_UID_BASE = 3_000_000_000
LIMITS = {
    resource.RLIMIT_AS: 2 * 1024**3,  # memory
    resource.RLIMIT_CPU: 120,  # CPU seconds for the whole process
    resource.RLIMIT_NPROC: 64,  # processes and threads
    resource.RLIMIT_FSIZE: 64 * 1024**2,  # largest file it may write
}
SYSTEM_DIRS = ["/usr", "/etc/alternatives", "/etc/ld.so.cache", "/etc/ssl"]
SCRATCH = "/tmp"  # the working folder inside the sandbox: a tmpfs of its own
SCRATCH_SIZE = 256 * 1024**2
# What student code finds in its environment: nothing of the grader's
ENVIRONMENT = {
    "HOME": SCRATCH, "IPYTHONDIR": f"{SCRATCH}/.ipython", "MPLCONFIGDIR": SCRATCH, "MPLBACKEND": "Agg",
    "PATH": f"{Path(sys.executable).parent}:/usr/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
    "USER": "student", "LOGNAME": "student",  # getpass.getuser() asks these before the user database
}


class Unavailable(RuntimeError):
    """The sandbox cannot run here; the message says why and what to do."""


def as_root() -> bool:
    return os.geteuid() == 0


def isolation_flags(root: bool) -> list[str]:
    """New namespaces for everything; for root, all but the user namespace, so that the
    unprivileged user inside is the same user outside (see `drop_privileges`)."""
    if not root:
        return ["--unshare-all"]
    return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]


def sandbox_uid() -> int:
    """The user student code runs as under a root grader: this worker's own, or `nobody`."""
    value = os.environ.get(SANDBOX_UID_VARIABLE, "")
    if value.isdigit() and SANDBOX_UID_BASE <= int(value) < 2**32 - 1:
        return int(value)
    return KERNEL_UID


def use_own_sandbox_user() -> None:
    """Give this process's sandboxes (and those of the kernels it starts) a user of their own."""
    os.environ[SANDBOX_UID_VARIABLE] = str(SANDBOX_UID_BASE + os.getpid())


def drop_privileges(root: bool) -> list[str]:
    if not root:
        return []
    return ["setpriv", f"--reuid={sandbox_uid()}", f"--regid={KERNEL_GID}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]


# Set once this process has found the sandbox working: the kernels it starts skip the check (a
# bubblewrap run of its own, a tenth of a second per kernel). Only a speed-up: a kernel whose
# sandbox fails to start fails all the same, with bubblewrap's own message.
CHECKED_VARIABLE = "COURSE_SANDBOX_CHECKED"


def check_available() -> None:
    if sys.platform != "linux":
        raise Unavailable(f"the sandbox needs Linux (this is {sys.platform}). Grade on Linux, "
                          "or pass --no-sandbox to run student code with your own permissions.")
    if shutil.which("bwrap") is None:
        raise Unavailable("bubblewrap is not installed: run `apt-get install bubblewrap` "
                          "(`make grade` does this on Debian and Ubuntu), or pass --no-sandbox.")
    root = as_root()
    probe = ["bwrap", *isolation_flags(root), "--ro-bind", "/", "/", *private_folders(), *drop_privileges(root), "true"]
    result = subprocess.run(probe, capture_output=True, text=True)
    if result.returncode != 0:
        raise Unavailable(f"bubblewrap cannot create a sandbox here ({result.stderr.strip() or 'no reason given'}); "
                          "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1), "
                          "or pass --no-sandbox.")
    os.environ[CHECKED_VARIABLE] = "1"


def python_dirs() -> list[str]:
    """The interpreter, its standard library and the environment's packages, read-only."""
    return sorted({sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))})


def traversable_parents(paths: list[str]) -> list[str]:
    """Create the folders above each mount point, open for traversal only.

    Left to itself, bubblewrap running as root creates them with mode 0700,
    which `nobody` cannot pass through. Their contents stay hidden: only the
    mounted paths exist in the sandbox.
    """
    parents = sorted({str(parent) for path in paths for parent in Path(path).parents if str(parent) != "/"},
                     key=lambda p: p.count("/"))
    flags = []
    for parent in parents:
        flags += ["--perms", "0755", "--dir", parent]
    return flags


def private_folders() -> list[str]:
    """`/tmp` and `/dev/shm` (multiprocessing's locks live there): memory-backed, size-limited, gone afterwards."""
    return ["--perms", "1777", "--size", str(SCRATCH_SIZE), "--tmpfs", SCRATCH,
            "--perms", "1777", "--size", str(SCRATCH_SIZE), "--tmpfs", "/dev/shm"]


def handin_files(folder) -> list[tuple[str, str]]:
    """The notebook's companion files (the student's data and modules, the course's figures) as
    (host path, path in the sandbox's /tmp) pairs: regular files only, never a link, no notebook.

    `folder` is the autograded folder, which only nbgrader writes (from plain
    files intake or the nbgrader guard accepted); nothing in the sandbox can
    write there.
    """
    if folder is None or not os.path.isdir(folder) or os.path.islink(folder):
        return []
    pairs = []
    for parent, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(parent, d))]
        for name in names:
            path = os.path.join(parent, name)
            if name.endswith(".ipynb") or not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            pairs.append((path, os.path.join(SCRATCH, os.path.relpath(path, folder))))
    return sorted(pairs)


def command(argv: list[str], read_only_files=(), environment=None, extra_flags=()) -> list[str]:
    """The bwrap command line that runs `argv` sandboxed, in its private `/tmp`.

    Nothing outside the sandbox is writable in it. `read_only_files` are
    (host path, sandbox path) pairs mounted read-only,
    for the notebook's companion files (`handin_files`). `environment`
    overrides entries of `ENVIRONMENT`. `extra_flags` are more bubblewrap
    flags, such as the kernel's folder and connection file.
    """
    root = as_root()
    flags = ["bwrap", *isolation_flags(root), "--die-with-parent", "--new-session", "--clearenv",
             "--proc", "/proc", "--dev", "/dev", *private_folders(),
             "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
             "--symlink", "usr/sbin", "/sbin"]
    read_only = [path for path in SYSTEM_DIRS + python_dirs() if os.path.exists(path)]
    flags += traversable_parents(read_only)
    for path in read_only:
        flags += ["--ro-bind", path, path]
    # folders for nested companion files, open to `nobody` (bwrap as root would make them 0700)
    nested = sorted({str(parent) for _, inside in read_only_files for parent in Path(inside).parents
                     if str(parent).startswith(SCRATCH + "/")}, key=lambda p: p.count("/"))
    for folder in nested:
        flags += ["--perms", "0755", "--dir", folder]
    for host, inside in read_only_files:
        flags += ["--ro-bind", host, inside]
    flags += [*extra_flags, "--chdir", SCRATCH]
    for name, value in {**ENVIRONMENT, **(environment or {})}.items():
        flags += ["--setenv", name, value]
    return [*flags, *drop_privileges(root), *argv]


def apply_limits() -> None:
    """Resource limits for the process about to become the sandbox (a `preexec_fn`)."""
    for limit, value in LIMITS.items():  # NPROC counts once the code runs as `nobody`
        _, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:  # under a grading job's own ceiling: never ask for more
            value = min(value, hard)
        resource.setrlimit(limit, (value, value))
