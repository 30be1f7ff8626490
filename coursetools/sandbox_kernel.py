"""Start an IPython kernel inside a bubblewrap sandbox: the kernelspec command of `coursetools.sandbox`.

Run by jupyter_client as `python sandbox_kernel.py SOCKETS_DIR CONNECTION_FILE`,
with the notebook's scratch folder as its working directory. Inside the
sandbox the kernel sees the system's read-only files, the Python it runs
on, its own scratch folder (writable) and its socket folder, and nothing
else: no course folder, no gradebook, no home directory, no network. When
the grader is root, bubblewrap sets the sandbox up as root and the kernel
then runs as `nobody`.
"""

import json
import os
import resource
import shutil
import sys
from pathlib import Path

KERNEL_UID = KERNEL_GID = 65534  # nobody
LIMITS = {
    resource.RLIMIT_AS: 2 * 1024**3,  # memory
    resource.RLIMIT_CPU: 120,  # CPU seconds for the whole kernel
    resource.RLIMIT_NPROC: 64,  # processes and threads
    resource.RLIMIT_FSIZE: 64 * 1024**2,  # largest file it may write
}
SYSTEM_DIRS = ["/usr", "/etc/alternatives", "/etc/ld.so.cache", "/etc/ssl"]


def python_dirs() -> list[str]:
    """The interpreter, its standard library and the environment's packages, read-only."""
    dirs = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    return sorted(dirs)


def isolation_flags(as_root: bool) -> list[str]:
    """New namespaces for everything; for root, all but the user namespace, so that
    uid 65534 inside is the real `nobody` outside (see `drop_privileges`)."""
    if not as_root:
        return ["--unshare-all"]
    return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]


def drop_privileges(as_root: bool) -> list[str]:
    if not as_root:
        return []
    return ["setpriv", f"--reuid={KERNEL_UID}", f"--regid={KERNEL_GID}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]


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


def bwrap_command(scratch: Path, sockets: Path, connection_file: Path, as_root: bool) -> list[str]:
    command = ["bwrap", *isolation_flags(as_root), "--die-with-parent", "--new-session", "--clearenv",
               "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
               "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
               "--symlink", "usr/sbin", "/sbin"]
    read_only = [path for path in SYSTEM_DIRS + python_dirs() if os.path.exists(path)]
    writable = [str(scratch), str(sockets)]
    command += traversable_parents(read_only + writable)
    for path in read_only:
        command += ["--ro-bind", path, path]
    for path in writable:
        command += ["--bind", path, path]
    command += ["--chdir", str(scratch),
                "--setenv", "HOME", "/tmp", "--setenv", "IPYTHONDIR", "/tmp/.ipython", "--setenv", "MPLCONFIGDIR", "/tmp", "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/bin",
                "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "MPLBACKEND", "Agg",
                *drop_privileges(as_root), sys.executable, "-m", "ipykernel_launcher", "-f", str(connection_file),
                "--HistoryManager.hist_file=:memory:"]
    return command


def hand_over(path: Path) -> None:
    """Give a file or folder tree to the unprivileged kernel user."""
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.chown(item, KERNEL_UID, KERNEL_GID)


def main() -> None:
    sockets, connection_file = Path(sys.argv[1]), Path(sys.argv[2])
    scratch = Path.cwd()
    # the kernel reads its connection file from its socket folder, the only place it can see
    private_copy = sockets / connection_file.name
    shutil.copyfile(connection_file, private_copy)
    as_root = os.geteuid() == 0
    if as_root:
        hand_over(scratch)
        hand_over(sockets)
    for limit, value in LIMITS.items():  # inherited by the kernel; NPROC counts once it is `nobody`
        resource.setrlimit(limit, (value, value))
    command = bwrap_command(scratch, sockets, private_copy, as_root)
    # the kernel's own stdout is only its connection banner; its stderr stays for crash reports
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
