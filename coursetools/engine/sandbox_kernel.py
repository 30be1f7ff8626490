"""Start an IPython kernel inside the bubblewrap sandbox: the `course-sandbox` kernelspec's command.

Run by jupyter_client as `python sandbox_kernel.py CONNECTION_FILE`. The
kernel talks to nbgrader over Unix sockets only (no network exists in the
sandbox), in the folder that the connection file's `ip` names; that folder
and the sandbox's own `/tmp`, its working folder, are the only writable
places it sees. It never works in the notebook's folder: nbgrader reads and
writes there as the grader afterwards, and must find nothing the student's
code could have left (links, pipes, extra notebooks, the notebook itself
with its hidden tests).

Usage: python -m coursetools.engine.sandbox_kernel install
       (writes the kernelspec into this Python environment; `make` runs it)
"""

import json
import os
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # started by path, as the kernelspec does
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from coursetools.engine import sandbox  # noqa: E402


def fail(message: str) -> None:
    print(f"{sandbox.KERNEL_NAME} kernel: {message}", file=sys.stderr)
    sys.exit(1)


def launch(connection_file: Path) -> None:
    try:
        sandbox.check_available()
    except sandbox.Unavailable as reason:
        fail(f"cannot start: {reason}")
    info = json.loads(connection_file.read_text())
    if info.get("transport") != "ipc":
        fail("the sandbox has no network, so its kernel needs Unix sockets: set "
             "c.KernelManager.transport = 'ipc' in nbgrader_config.py (the course's config does)")
    sockets = Path(info["ip"]).parent
    if sockets.is_symlink() or not sockets.is_dir():
        fail(f"the socket folder {sockets} must be a folder, not a link")
    # the kernel reads its connection file from its socket folder, the only other place it sees
    private_copy = sockets / connection_file.name
    shutil.copyfile(connection_file, private_copy)
    sandbox.hand_over(sockets)
    sandbox.apply_limits()
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", str(private_copy), "--HistoryManager.hist_file=:memory:"]
    command = sandbox.command(argv, writable=(sockets,))
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
