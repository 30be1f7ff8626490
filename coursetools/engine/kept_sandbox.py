"""The grader's end of a kernel's sandbox that outlives the kernel, for the recheck's rerun.

`kernel_boot.py` is the first process of every sandboxed kernel's sandbox:
it forks the kernel and waits, pristine, for the rerun. `KeptSandbox` holds
the two pipes to it (commands and the plan in, the runner's reports out) and
the launcher's process, whose end is the sandbox's end:

- `SandboxKernelManager` makes one for each kernel it starts, and hands the
  sandbox's ends of the pipes to the launcher;
- `GradingExecute` keeps it past the kernel's shutdown and hands it to the
  recheck (`resources["course"]["kept_sandbox"]`);
- `Recheck` runs its first rerun in it, then ends it. Whoever drops it
  unused ends it too: closing the command pipe ends the sandbox.
"""

import os
import signal
import subprocess
import weakref

END_GRACE = 2  # seconds for the sandbox to end by itself before it is killed


def _close(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _end(state: dict) -> None:
    """Close the grader's ends; the sandbox ends on its own, or is killed after `END_GRACE`."""
    _close(*state.pop("fds", ()))
    process = state.pop("process", None)
    if process is None:
        return
    try:
        process.wait(timeout=END_GRACE)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the launcher leads its own process group
        except ProcessLookupError:
            pass
        process.wait()


class KeptSandbox:
    def __init__(self):
        plan_read, self.plan_write = os.pipe()
        self.report_read, report_write = os.pipe()
        self.sandbox_fds = (plan_read, report_write)  # inherited by the launcher, closed here once it runs
        self.kept = self.used = False
        # what ending needs, outside the object, so that a dropped sandbox still ends
        self._state = {"fds": [self.plan_write, self.report_read, *self.sandbox_fds], "process": None}
        self._finalizer = weakref.finalize(self, _end, self._state)

    def launch_arguments(self, kw: dict, variable: str) -> None:
        """Add the sandbox's pipe ends to the launcher's Popen arguments (jupyter_client passes them on)."""
        kw["pass_fds"] = tuple(kw.get("pass_fds", ())) + self.sandbox_fds
        kw["env"] = {**(kw.get("env") or os.environ), variable: ",".join(map(str, self.sandbox_fds))}

    def launched(self, process) -> None:
        _close(*self.sandbox_fds)
        self._state["fds"] = [self.plan_write, self.report_read]
        self._state["process"] = process

    @property
    def process(self):
        return self._state.get("process")

    def keep(self) -> None:
        """The kernel's shutdown stops only the kernel: the sandbox waits for the rerun."""
        self.kept = True

    def can_rerun(self) -> bool:
        return not self.used and self.process is not None and self.process.poll() is None

    def stop_kernel(self) -> None:
        self._send(b"K")

    def begin_rerun(self, runner_source: str):
        """Start the rerun; returns the launcher's process and the streams for the plan and the reports."""
        self.used = True
        source = runner_source.encode()
        self._send(b"R" + len(source).to_bytes(8, "big") + source)
        fds = self._state["fds"]
        self._state["fds"] = []
        plan, reports = os.fdopen(fds[0], "wb"), os.fdopen(fds[1], "rb")
        return self.process, plan, reports

    def end(self) -> None:
        self._finalizer()

    def _send(self, data: bytes) -> None:
        try:
            while data:
                data = data[os.write(self.plan_write, data):]
        except OSError:  # the sandbox is gone already (killed with a runaway kernel)
            pass
