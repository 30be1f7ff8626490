"""Start an IPython kernel inside the bubblewrap sandbox, and connect to it: the `course-sandbox` kernel.

`launch` is the kernelspec's command (jupyter_client runs it as `python
sandbox_kernel.py CONNECTION_FILE`). The kernel talks over Unix sockets only
(no network exists in the sandbox), and creates them in a folder of the
sandbox's own size-limited `/tmp`, which is also its working folder: no
folder outside the sandbox is writable by it. Its connection file is copied
in by bubblewrap. The notebook's companion files are there read-only. It
never works in the notebook's folder: nbgrader reads and writes there as the
grader afterwards, and must find nothing the student's code could have left.

`coursetools.engine.kernel_manager.SandboxKernelManager` reaches those
sockets from outside. This module imports nothing but the standard library
and the sandbox's flags: it runs once per kernel, and every import here is
paid again for every hand-in.

Usage: python -m coursetools.engine.sandbox_kernel install
       (writes the kernelspec into this Python environment; `make` runs it)
"""

import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # started by path, as the kernelspec does
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from coursetools.engine import sandbox  # noqa: E402

# Where the kernel's sockets and connection file live, inside the sandbox
KERNEL_FOLDER = f"{sandbox.SCRATCH}/.kernel"
CONNECTION_FILE = f"{KERNEL_FOLDER}/connection.json"  # in the command line of the sandbox's processes too
# The sandbox's first process (see there): it forks the kernel and keeps itself for the rerun
BOOT = Path(__file__).with_name("kernel_boot.py")
# The two inherited descriptors (plan, report) of the rerun's pipes, set by the grader's kernel manager
RERUN_FDS_VARIABLE = "COURSE_RERUN_FDS"
# Plots show in the notebook, as in Jupyter (the sandbox's default backend draws nothing)
KERNEL_ENVIRONMENT = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def fail(message: str) -> None:
    print(f"{sandbox.KERNEL_NAME} kernel: {message}", file=sys.stderr)
    sys.exit(1)


def rerun_fds() -> tuple[int, int]:
    """The rerun's pipe ends this launcher inherited, or (-1, -1) for a kernel started outside grading."""
    try:
        plan, report = (int(fd) for fd in os.environ.get(RERUN_FDS_VARIABLE, "").split(","))
        os.fstat(plan), os.fstat(report)
    except (ValueError, OSError):
        return -1, -1
    return plan, report


def launch(connection_file: Path) -> None:
    try:
        if os.environ.get(sandbox.CHECKED_VARIABLE) != "1":  # a grader that checked already says so
            sandbox.check_available()
    except sandbox.Unavailable as reason:
        fail(f"cannot start: {reason}")
    info = json.loads(connection_file.read_text())
    if info.get("transport") != "ipc":
        fail("the sandbox has no network, so its kernel needs Unix sockets: set "
             "c.KernelManager.transport = 'ipc' in nbgrader_config.py (the course's config does)")
    info["ip"] = f"{KERNEL_FOLDER}/kernel"
    # bubblewrap copies the kernel's connection file in from a pipe: no file of it exists outside
    read_end, write_end = os.pipe()
    os.write(write_end, json.dumps(info).encode())
    os.close(write_end)
    os.set_inheritable(read_end, True)
    sandbox.apply_limits()
    inside_file = CONNECTION_FILE
    plan, report = rerun_fds()
    # -P: not the working folder first on sys.path, nor (-s) a user site inside the sandbox
    argv = [sys.executable, "-P", "-s", "-c", BOOT.read_text(), str(plan), str(report),
            "-f", inside_file, "--HistoryManager.hist_file=:memory:"]
    # nbgrader starts the kernel in the notebook's folder: its companion files are given read-only
    command = sandbox.command(argv, read_only_files=sandbox.handin_files(os.getcwd()), environment=KERNEL_ENVIRONMENT,
                              extra_flags=["--perms", "1777", "--dir", KERNEL_FOLDER,
                                           "--perms", "0644", "--file", str(read_end), inside_file])
    # the kernel writes nothing the grader wants on stdout or stderr, and student code can write
    # there too: neither reaches the grader's terminal
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.execvp(command[0], command)


def install(prefix: str = sys.prefix) -> Path:
    """Write the kernelspec into a Python environment's share/jupyter/kernels."""
    spec_dir = Path(prefix) / "share" / "jupyter" / "kernels" / sandbox.KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(Path(__file__).resolve()), "{connection_file}"],
        "display_name": "Python 3 (grading sandbox)", "language": "python",
        "metadata": {"debugger": False},
    }, indent=1) + "\n")
    return spec_dir


def main(argv: list[str]) -> None:
    if argv == ["install"]:
        print(f"installed the {sandbox.KERNEL_NAME} kernelspec in {install()}")
    elif len(argv) == 1 and argv[0].endswith(".json"):
        launch(Path(argv[0]))
    else:
        fail(f"usage: {Path(__file__).name} CONNECTION_FILE | install")


if __name__ == "__main__":
    main(sys.argv[1:])
