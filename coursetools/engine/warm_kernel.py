"""A hand-in's kernel, started ahead of need: it loads while nbgrader does its bookkeeping.

A sandboxed kernel takes about half a second to start, most of it the
kernel loading IPython. Its sandbox binds the notebook's companion files, so
it can only start once they are in place; nbgrader puts them in the
autograded folder before its first pass over the notebook (sanitizing), and
runs the notebook in its second. `StartKernelAhead`, the first preprocessor
of the first pass (nbgrader_config.py), starts the kernel there, and
`GradingExecute` adopts it (`take`) in the second, once nbgrader's gradebook
work, copying and checks are done.

It is adopted only if it is what `GradingExecute` would start itself: the
same kernelspec, in the same folder, whose companion files are still, name
for name and byte for byte, those bound into its sandbox, and still alive.
Otherwise it is stopped, and `GradingExecute` starts a kernel as it always
did. Being configured in nbgrader_config.py, this works for `make grade`,
`nbgrader autograde` and the formgrader alike.
"""

import hashlib
import os

from jupyter_core.utils import run_sync
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from coursetools.engine import sandbox
from coursetools.engine.kernel_manager import SandboxKernelManager

_waiting = None  # (kernel manager, folder, companion files' signature): at most one per process


def signature(folder: str) -> list:
    """The companion files the sandbox binds from `folder`, with a digest of each."""
    files = []
    for host, inside in sandbox.handin_files(folder):
        with open(host, "rb") as handle:
            files.append((inside, hashlib.file_digest(handle, "sha256").hexdigest()))
    return files


def start(config, folder: str) -> None:
    global _waiting
    discard()
    manager = SandboxKernelManager(kernel_name=sandbox.KERNEL_NAME, config=config)
    files = signature(folder)
    run_sync(manager.start_kernel)(cwd=folder, extra_arguments=[])
    _waiting = (manager, folder, files)


def take(kernel_name: str, folder: str):
    """The kernel started ahead for `folder`, if it is the kernel that would be started now; else None."""
    global _waiting
    if _waiting is None:
        return None
    manager, started_in, files = _waiting
    _waiting = None
    try:
        if (kernel_name == manager.kernel_name and folder and os.path.realpath(folder) == os.path.realpath(started_in)
                and signature(folder) == files and run_sync(manager.is_alive)()):
            return manager
    except OSError:
        pass
    stop(manager)
    return None


def stop(manager) -> None:
    try:
        run_sync(manager.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 (an unwanted kernel that will not stop is killed with its job)
        pass


def discard() -> None:
    """Stop a kernel started ahead that nobody took (the notebook failed before it ran)."""
    global _waiting
    if _waiting is not None:
        manager, _waiting = _waiting[0], None
        stop(manager)


class StartKernelAhead(NbGraderPreprocessor):
    """First in `Autograde.sanitize_preprocessors`: start the sandboxed kernel in the autograded folder."""

    def preprocess(self, nb, resources):
        if self.config.Execute.get("kernel_name") != sandbox.KERNEL_NAME:
            return nb, resources  # unsandboxed grading (--no-sandbox) starts its kernel as nbgrader does
        info = resources.get("nbgrader", {})
        try:
            coursedir = CourseDirectory(config=self.config)
            start(self.config, coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"]))
        except Exception as error:  # noqa: BLE001 (only a head start is lost: Execute starts its own)
            self.log.warning("could not start the kernel ahead (%s: %s); it starts when the notebook runs",
                             type(error).__name__, error)
        return nb, resources
