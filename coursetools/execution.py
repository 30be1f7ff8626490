"""Run a hand-in so that a dead or stuck kernel costs only what comes after it.

Stock nbgrader drops the whole student when the kernel dies or a cell
ignores the interrupt sent at its timeout. Here the cells that ran keep
their outputs, and with them their points; every later code cell gets an
error saying why it did not run, so it scores 0, and the grader sees why in
the autograded notebook.
"""

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

# ename of the error output nbgrader's Execute writes when a cell times out
TIMEOUT = "CellTimeoutError"
KERNEL_DIED = "DeadKernelError"
NOT_RUN = "CellNotRun"


def error_output(ename: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=message, traceback=[f"{ename}: {message}"])


class KeepEarnedPoints(Execute):
    """nbgrader's Execute, stopping cleanly at the first timeout or kernel death."""

    def preprocess(self, nb, resources=None, km=None):
        self.stopped_because = ""
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, self.resources
        if self.stopped_because:
            cell.outputs = [error_output(NOT_RUN, f"not run: {self.stopped_because}")]
            return cell, self.resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            # os._exit, a segfault through ctypes or the out-of-memory killer
            cell.outputs.append(error_output(KERNEL_DIED, "the kernel died while running this cell"))
            self.stopped_because = "the kernel died in an earlier cell"
            return cell, self.resources
        except CellTimeoutError:
            # the cell ignored the interrupt too: nbclient gave up waiting for it
            cell.outputs.append(error_output(TIMEOUT, "this cell ran past its time limit and ignored the interrupt"))
            self.stopped_because = "an earlier cell ran past its time limit"
            return cell, self.resources
        if any(o.get("ename") == TIMEOUT for o in cell.outputs if o.output_type == "error"):
            # An interrupted cell may still be running (a loop can ignore SIGINT):
            # anything sent to the kernel now would only time out in turn
            self.stopped_because = "an earlier cell ran past its time limit"
        return cell, resources


def stop_reason(nb) -> str:
    """The error that stopped a graded notebook's execution, or an empty string."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") in (TIMEOUT, KERNEL_DIED):
                return output["ename"]
    return ""
