"""The kernel manager nbgrader uses for every kernel it starts (`c.NotebookClient.kernel_manager_class`).

A `course-sandbox` kernel (started by `coursetools.engine.sandbox_kernel`)
makes its sockets in the sandbox's own `/tmp`. `SandboxKernelManager`
reaches them from outside through `/proc/<kernel>/root`, the sandbox's own
root as the kernel sees it. The grader never creates, owns or deletes
anything in the sandbox.

The kernel is a fork of the sandbox's first process (`kernel_boot.py`),
which stays for the recheck's rerun: the manager gives it its pipes
(`kept_sandbox.KeptSandbox`), and tells the kernel's own life from the
sandbox's.
"""

import asyncio
import os
import select
import shutil
import signal
import tempfile
import weakref
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from coursetools.engine import sandbox
from coursetools.engine.kept_sandbox import KeptSandbox
from coursetools.engine.sandbox_kernel import KERNEL_FOLDER, RERUN_FDS_VARIABLE

SANDBOX_START_TIMEOUT = 10  # seconds for bubblewrap to create the sandbox's first process


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def sandbox_tree(launcher: int):
    """(process, its parent) for every process under the launcher, breadth first, once it is bubblewrap.

    Until the launcher has become bubblewrap it is still Python, and its
    children (the sandbox check it may run first) are not the kernel's.
    """
    if command_name(launcher) != "bwrap":
        return
    pending = [(child, launcher) for child in children(launcher)]
    while pending:
        pid, parent = pending.pop(0)
        yield pid, parent
        pending += [(child, pid) for child in children(pid)]


def sandbox_process(launcher: int) -> int | None:
    """A process inside the sandbox whose root this grader may look through, once the sandbox is set up:
    bubblewrap's own, which lasts as long as the sandbox, or for an unprivileged grader that it
    refuses, one further down."""
    return next((pid for pid, _ in sandbox_tree(launcher) if os.path.isdir(f"/proc/{pid}/root{KERNEL_FOLDER}")),
                None)


def kernel_process(launcher: int) -> int | None:
    """The kernel's process, once the sandbox's first process has forked it; found even once it has died.

    Inside the sandbox, the first Python process (`kernel_boot.py`) forks the
    kernel: the kernel is the process under the launcher whose parent is
    Python. A kernel that died stays its parent's child, a zombie, until the
    grader's next command to the sandbox.
    """
    return next((pid for pid, parent in sandbox_tree(launcher) if command_name(parent).startswith("python")), None)


class KernelProcess:
    """The kernel's process, held by a pidfd: never confused with a later process of the same id."""

    def __init__(self, pidfd: int):
        self.pidfd = pidfd
        self._finalizer = weakref.finalize(self, os.close, pidfd)

    @classmethod
    def find(cls, launcher: int) -> "KernelProcess | None":
        pid = kernel_process(launcher)
        if pid is None:
            return None
        try:
            return cls(os.pidfd_open(pid))
        except OSError:
            return None

    def running(self) -> bool:
        return not select.select([self.pidfd], [], [], 0)[0]  # a pidfd reads as ready once its process ends

    def kill(self) -> None:
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except OSError:
            pass


class SandboxKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, connecting to a sandboxed kernel's sockets through /proc.

    For any other kernel (`--no-sandbox` grades in `python3`) it is the
    stock manager.
    """

    kept_sandbox: KeptSandbox | None = None  # the kernel's sandbox, for the recheck's rerun
    kernel: KernelProcess | None = None  # the kernel's own process inside it, once found

    async def _async_pre_start_kernel(self, **kw):
        if self.kernel_name == sandbox.KERNEL_NAME:
            # ports are chosen as free names next to `ip`: a folder only this grader can write to
            self.transport = "ipc"
            self._private_folder = tempfile.mkdtemp(prefix="course-kernel-")
            self.ip = f"{self._private_folder}/kernel"
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self.kernel_name != sandbox.KERNEL_NAME:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        self.kept_sandbox = KeptSandbox()
        self.kept_sandbox.launch_arguments(kw, RERUN_FDS_VARIABLE)
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            self.kept_sandbox.launched(self.provisioner.process if self.provisioner else None)
        # the kernel's sockets will be in the sandbox: reachable as soon as the sandbox exists, and
        # the kernel, still loading, is waited for by the client, as any kernel is
        launcher = self.provisioner.process.pid
        for _ in range(SANDBOX_START_TIMEOUT * 100):
            inside = sandbox_process(launcher)
            if inside is not None:
                self.ip = f"/proc/{inside}/root{KERNEL_FOLDER}/kernel"
                return
            if self.provisioner.process.poll() is not None:
                break
            await asyncio.sleep(0.01)
        raise RuntimeError(f"the {sandbox.KERNEL_NAME} kernel did not start its sandbox: check that "
                           "`bwrap` runs here (see `make grade`'s message)")

    async def _async_is_alive(self) -> bool:
        """The kernel's own process, once it is forked, not the sandbox's: the sandbox outlives a dead kernel."""
        alive = await super()._async_is_alive()
        if alive and self.kernel is None and self.kept_sandbox is not None:
            self.kernel = KernelProcess.find(self.provisioner.process.pid)
        return alive and (self.kernel is None or self.kernel.running())

    is_alive = _async_is_alive

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        kept = self.kept_sandbox
        if kept is not None and kept.kept and not restart:
            # the recheck reruns in this sandbox next: stop the kernel alone, and let the recheck end the rest.
            # The kernel is killed from here too: the sandbox's first process may have been stopped.
            if self.kernel is not None:
                self.kernel.kill()
            kept.stop_kernel()
            self.shutting_down = True
            await self._async_cleanup_resources(restart)
            return
        if kept is not None:
            kept.end()  # the kernel and its sandbox end together
        await super()._async_shutdown_kernel(now=now, restart=restart)

    shutdown_kernel = _async_shutdown_kernel

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        folder = getattr(self, "_private_folder", None)
        if folder and not restart:
            shutil.rmtree(folder, ignore_errors=True)
