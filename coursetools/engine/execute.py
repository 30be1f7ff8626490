"""nbgrader's Execute step for this course: keep earned points, read checked values back.

`GradingExecute` replaces nbgrader's `Execute` in the autograde step
(nbgrader_config.py). It differs in three ways:

- **A dead or stuck kernel costs only what comes after it.** Stock nbgrader
  drops the whole student when the kernel dies or a cell ignores the
  interrupt sent at its timeout. Here the cells that ran keep their outputs,
  and with them their points; every later code cell gets an error saying why
  it did not run, so it scores 0, and the grader sees why. The same holds
  when the whole notebook runs past `total_timeout`.
- **Values are read back.** The execute request of each check carries one
  expression (`user_expressions`, evaluated by the kernel right after the
  check ran without error) that binds no name and gives the checked value as
  JSON; `recheck.Recheck` compares it outside the kernel. It costs no
  execution of its own. The answer cell of each computed result carries the
  same expression for that result, so its value is known even when its
  check fails; those values are kept apart (`computed_values`) and only
  reported, never graded.
- **The kernel's sandbox outlives it**, for the recheck's rerun (see
  `kept_sandbox`), which then starts at no cost.
- **Output is capped as it arrives.** A cell keeps at most
  `max_output_bytes` of output, the notebook `max_notebook_output_bytes`;
  the rest is dropped with a note, so a loop
  printing for its whole time limit cannot fill the grader's memory. Errors
  are always kept: they are what makes a check score 0.
"""

import time

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

from coursetools import notebooks
from coursetools.engine import answer_key, computed_values, timing, warm_kernel

# ename of the error output nbgrader's Execute writes when a cell times out
TIMEOUT = "CellTimeoutError"
KERNEL_DIED = "DeadKernelError"
NOT_RUN = "CellNotRun"
READ_BACK = "course_read_back"  # the key of the read-back among a cell's user_expressions
KEPT_SANDBOX = "kept_sandbox"  # the kernel's sandbox, for the recheck (coursetools.engine.kept_sandbox)


def error_output(ename: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])


class GradingExecute(Execute):
    """nbgrader's Execute, stopping cleanly at the first timeout or kernel death, reading values back."""

    total_timeout = Integer(300, help="Seconds the whole notebook may run; later cells are not run.").tag(config=True)
    max_output_bytes = Integer(2 * 1024**2, help="Output one cell may keep; the rest is dropped.").tag(config=True)
    max_notebook_output_bytes = Integer(8 * 1024**2, help="Output all cells together may keep.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self.stopped_because = ""
        self.output_left, self.output_cut = self.max_output_bytes, False
        self.notebook_output_left = self.max_notebook_output_bytes
        self.read_back, self.last_reply = {}, None
        self.kernel_values, self.computed_values = {}, {}
        resources.setdefault("course", {})["kernel_values"] = self.kernel_values
        resources["course"][computed_values.RESOURCE] = self.computed_values
        self.deadline = time.monotonic() + self.total_timeout
        self.started, self.kernel_ready = time.perf_counter(), None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            ended = time.perf_counter()
            ready = self.kernel_ready or ended
            timing.add("kernel_start", ready - self.started)
            timing.add("execution", ended - ready)

    def preprocess_cell(self, cell, resources, index):
        if self.kernel_ready is None:  # nbclient calls this once its kernel has answered
            self.kernel_ready = time.perf_counter()
        if cell.cell_type != "code":
            return cell, self.resources
        if not self.stopped_because and time.monotonic() > self.deadline:
            # many slow cells, each within its own limit, add up to no more than this
            cell.outputs = [error_output(TIMEOUT, f"not run: the notebook ran past its {self.total_timeout} s")]
            self.stopped_because = "the notebook ran past its total time limit"
            return cell, self.resources
        if self.stopped_because:
            cell.outputs = [error_output(NOT_RUN, f"not run: {self.stopped_because}")]
            return cell, self.resources
        check, read_into, expression = self.read_back_for(cell)
        self.read_back = {READ_BACK: expression} if check else {}
        self.last_reply = None
        try:
            cell = self.run_or_stop(cell, index)
        finally:
            self.read_back = {}
        merge_consecutive_streams(cell)
        if check and not self.stopped_because and not any(o.output_type == "error" for o in cell.outputs):
            expressions = ((self.last_reply or {}).get("content") or {}).get("user_expressions") or {}
            read_into[check.grade_id] = answer_key.parse_read_back(expressions.get(READ_BACK))
        return cell, self.resources

    def read_back_for(self, cell):
        """The check whose value this cell's execute request reads back, where it goes, and how it is read:
        a check cell's value is graded (`kernel_values`); a computed result's answer cell's is only
        reported, and only looked at (`answer_key.look_expression`), since no check has vetted it yet."""
        if notebooks.is_test_cell(cell):
            check = answer_key.CHECKS.get(notebooks.grade_id(cell))
            return check, self.kernel_values, check and answer_key.read_back_expression(check)
        computation = computed_values.ANSWER_CELLS.get(notebooks.grade_id(cell))
        if computation and notebooks.is_answer_cell(cell):
            check = answer_key.CHECKS[computation]
            return check, self.computed_values, answer_key.look_expression(check.name, computed_values.MAX_NUMBERS)
        return None, None, None

    def create_kernel_manager(self):
        """The kernel started ahead for this notebook's folder, if it is the one this would start."""
        folder = (self.resources or {}).get("metadata", {}).get("path")
        self.km = warm_kernel.take(self.kernel_name, folder) if folder else None
        return self.km or super().create_kernel_manager()

    async def async_start_new_kernel_client(self):
        """The kernel client, sending the read-back of the cell being run with its execute request.

        The kernel's sandbox is kept past the kernel's shutdown for the recheck's rerun, which ends it.
        """
        client = await super().async_start_new_kernel_client()
        kept = getattr(self.km, "kept_sandbox", None)
        if kept is not None:
            kept.keep()
            self.resources.setdefault("course", {})[KEPT_SANDBOX] = kept
        execute = client.execute

        def execute_with_read_back(code, *args, **kwargs):
            if self.read_back:
                kwargs["user_expressions"] = dict(self.read_back)
            return execute(code, *args, **kwargs)

        client.execute = execute_with_read_back
        return client

    # nbclient's synchronous entry point is bound to its own coroutine: bind it to this one
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def on_cell_executed(self, **kwargs):
        """nbgrader's hook (it records an error the kernel only reported in its reply), keeping the reply."""
        self.last_reply = kwargs.get("execute_reply")
        return super().on_cell_executed(**kwargs)

    def output(self, outs, msg, display_id, cell_index):
        """Keep a cell's output until it passes `max_output_bytes`; always keep its errors."""
        if msg["msg_type"] != "error":
            size = message_size(msg)
            room = min(self.output_left, self.notebook_output_left)
            self.output_left -= size
            self.notebook_output_left -= size
            if size > room:
                if self.output_cut:
                    return None
                self.output_cut = True
                kept = None
                if msg["msg_type"] == "stream" and room > 0:
                    # printed text is cut at the limit itself, wherever the kernel split it into messages
                    msg = {**msg, "content": {**msg["content"], "text": msg["content"]["text"][:room]}}
                    kept = super().output(outs, msg, display_id, cell_index)
                note = NotebookNode(output_type="stream", name="stderr",
                                    text=f"[output cut: more than {self.max_output_bytes} bytes in this cell, "
                                         f"or {self.max_notebook_output_bytes} in the notebook]\n")
                outs.append(note)
                return kept
        return super().output(outs, msg, display_id, cell_index)

    def run_or_stop(self, cell, index, store_history=True):
        """Run one cell; on a kernel death or an unstoppable cell, note it and stop running cells."""
        self.output_left, self.output_cut = self.max_output_bytes, False
        try:
            cell = self.execute_cell(cell, index, store_history=store_history)
        except DeadKernelError:
            # os._exit, a segfault through ctypes or the out-of-memory killer; whether the kernel
            # numbered the cell before it died is a matter of timing, so it is left unnumbered
            cell.execution_count = None
            cell.outputs.append(error_output(KERNEL_DIED, "the kernel died while running this cell"))
            self.stopped_because = "the kernel died in an earlier cell"
            return cell
        except CellTimeoutError:
            # the cell ignored the interrupt too: nbclient gave up waiting for it
            cell.execution_count = None
            cell.outputs.append(error_output(TIMEOUT, "this cell ran past its time limit and ignored the interrupt"))
            self.stopped_because = "an earlier cell ran past its time limit"
            return cell
        except Exception as error:  # noqa: BLE001 (the kernel's messages can no longer be read)
            # student code broke the kernel's own protocol, e.g. by patching `json.dumps`
            cell.execution_count = None
            cell.outputs.append(error_output(KERNEL_DIED, f"the kernel stopped answering properly ({type(error).__name__})"))
            self.stopped_because = "the kernel stopped answering properly in an earlier cell"
            return cell
        if any(o.get("ename") == TIMEOUT for o in cell.outputs if o.output_type == "error"):
            # An interrupted cell may still be running (a loop can ignore SIGINT):
            # anything sent to the kernel now would only time out in turn
            self.stopped_because = "an earlier cell ran past its time limit"
        return cell


def merge_consecutive_streams(cell) -> None:
    """One output for printed text that follows printed text, as Jupyter shows and saves it.

    How many messages the kernel splits a cell's printing into depends on
    timing (a busy machine, another grading job): merged, the graded
    notebook and its feedback are the same however the text arrived.
    """
    merged = []
    for output in cell.outputs:
        last = merged[-1] if merged else None
        if (output.output_type == "stream" and last is not None and last.output_type == "stream"
                and last.name == output.name):
            last.text += output.text
        else:
            merged.append(output)
    cell.outputs = merged


def message_size(msg) -> int:
    """Roughly how many bytes an output message adds to the notebook."""
    content = msg.get("content", {})
    if msg["msg_type"] == "stream":
        return len(content.get("text", ""))
    return sum(len(value) if isinstance(value, str) else len(str(value)) for value in content.get("data", {}).values())


def stop_reason(nb) -> str:
    """The error that stopped a graded notebook's execution, or an empty string."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") in (TIMEOUT, KERNEL_DIED):
                return output["ename"]
    return ""
