"""Run every student kernel inside a bubblewrap sandbox (see `sandbox_kernel.py`).

bubblewrap needs no daemon, unlike Docker, and works for root and for
unprivileged users wherever Linux user namespaces are enabled. Grading
refuses to run student code unsandboxed unless the instructor asks for it
with `--no-sandbox`.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from coursetools import intake, sandbox_kernel

KERNEL_NAME = "course-sandbox"
LAUNCHER = Path(__file__).with_name("sandbox_kernel.py")


class Unavailable(RuntimeError):
    """The sandbox cannot run here; the message says why and what to do."""


def check_available() -> None:
    if sys.platform != "linux":
        raise Unavailable(f"the sandbox needs Linux (this is {sys.platform}). Grade on Linux, "
                          "or pass --no-sandbox to run student code with your own permissions.")
    if shutil.which("bwrap") is None:
        raise Unavailable("bubblewrap is not installed: run `apt-get install bubblewrap` "
                          "(`make grade` does this on Debian and Ubuntu), or pass --no-sandbox.")
    as_root = os.geteuid() == 0
    probe = ["bwrap", *sandbox_kernel.isolation_flags(as_root), "--ro-bind", "/", "/",
             *sandbox_kernel.drop_privileges(as_root), "true"]
    result = subprocess.run(probe, capture_output=True, text=True)
    if result.returncode != 0:
        raise Unavailable(f"bubblewrap cannot create a sandbox here ({result.stderr.strip() or 'no reason given'}); "
                          "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1), "
                          "or pass --no-sandbox.")


def configure(root: Path, config) -> None:
    """Make nbgrader start every kernel through the sandbox launcher."""
    check_available()
    work = root / intake.STAGING.parent
    sockets = work / "sockets"
    shutil.rmtree(sockets, ignore_errors=True)
    sockets.mkdir(parents=True, mode=0o700)
    spec_dir = work / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(LAUNCHER), str(sockets), "{connection_file}"],
        "display_name": "Python 3 (sandboxed)", "language": "python",
    }))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(work / "jupyter"), os.environ.get("JUPYTER_PATH")]))
    config.Execute.kernel_name = KERNEL_NAME
    config.KernelManager.ip = str(sockets / "kernel")
