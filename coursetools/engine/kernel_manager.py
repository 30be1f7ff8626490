"""The kernel manager nbgrader uses for every kernel it starts (`c.NotebookClient.kernel_manager_class`).

A `course-sandbox` kernel (started by `coursetools.engine.sandbox_kernel`)
makes its sockets in the sandbox's own `/tmp`. `SandboxKernelManager`
reaches them from outside through `/proc/<pid>/root`, the sandbox's own root
as the kernel's first process sees it. The grader never creates, owns or
deletes anything in the sandbox.
"""

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from coursetools.engine import sandbox
from coursetools.engine.sandbox_kernel import KERNEL_FOLDER

SANDBOX_START_TIMEOUT = 10  # seconds for bubblewrap to create the sandbox's first process


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def sandbox_process(launcher: int) -> int | None:
    """A process inside the sandbox whose root this grader may look through, once the sandbox is set up.

    Until the launcher has become bubblewrap it is still Python, and its
    children (the sandbox check it runs first) are not the kernel's. Inside,
    the first process that shows the kernel's folder through `/proc/<pid>/root`
    will do: bubblewrap's own may refuse an unprivileged grader, the kernel's
    does not.
    """
    try:
        if Path(f"/proc/{launcher}/comm").read_text().strip() != "bwrap":
            return None
    except OSError:
        return None
    pending = children(launcher)
    while pending:
        pid = pending.pop(0)
        if os.path.isdir(f"/proc/{pid}/root{KERNEL_FOLDER}"):
            return pid
        pending += children(pid)
    return None


class SandboxKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, connecting to a sandboxed kernel's sockets through /proc.

    For any other kernel (`--no-sandbox` grades in `python3`) it is the
    stock manager.
    """

    async def _async_pre_start_kernel(self, **kw):
        if self.kernel_name == sandbox.KERNEL_NAME:
            # ports are chosen as free names next to `ip`: a folder only this grader can write to
            self.transport = "ipc"
            self._private_folder = tempfile.mkdtemp(prefix="course-kernel-")
            self.ip = f"{self._private_folder}/kernel"
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.kernel_name != sandbox.KERNEL_NAME:
            return
        # the launcher became bubblewrap; its first child is the sandbox's own first process
        launcher = self.provisioner.process.pid
        for _ in range(SANDBOX_START_TIMEOUT * 100):
            child = sandbox_process(launcher)
            if child is not None:
                self.ip = f"/proc/{child}/root{KERNEL_FOLDER}/kernel"
                return
            if self.provisioner.process.poll() is not None:
                break
            await asyncio.sleep(0.01)
        raise RuntimeError(f"the {sandbox.KERNEL_NAME} kernel did not start its sandbox: check that "
                           "`bwrap` runs here (see `make grade`'s message)")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        folder = getattr(self, "_private_folder", None)
        if folder and not restart:
            shutil.rmtree(folder, ignore_errors=True)
