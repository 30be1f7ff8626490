"""Hostile hand-ins, each named after its attack, with the exact status and score it must end with.

Each entry lays its hand-in down in a course copy: a notebook built from
the release (most carry every correct answer too, so any points the trick
gained would show), or a folder that is not what it claims to be. `Place`
gives the paths an attack may aim at: files outside the course that must
never be read, shown, chowned or changed, and the course's own secrets.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from coursetools import course, notebooks

from corpus_tools import CORRECT, Submission, add_cell, build, chain, set_source


@dataclass(frozen=True)
class Place:
    root: Path  # the course copy being graded
    outside: Path  # a folder outside the course with the files below
    secret: Path  # root-only, holds SECRET
    decoy: Path  # world-readable, holds SECRET too
    release: object  # the release notebook


SECRET = "planted-secret-5f1c0e"


@dataclass(frozen=True)
class Attack:
    lay: object  # function(place, name) that puts the hand-in under submitted/name
    status: str
    total: float | None  # None: never graded, so no score at all
    note: str = ""  # a phrase the instructor's note must contain


def folder(place: Place, name: str) -> Path:
    path = place.root / "submitted" / name / course.ASSIGNMENT
    path.mkdir(parents=True, exist_ok=True)
    return path


def notebook_path(place: Place, name: str) -> Path:
    return folder(place, name) / f"{course.NOTEBOOK}.ipynb"


def correct_with(*changes):
    """Every correct answer, plus the attack's cells."""
    def lay(place: Place, name: str) -> None:
        notebooks.write(build(place.release, Submission(CORRECT, change=chain(*changes))), notebook_path(place, name))
    return lay


def blank_with(*changes):
    """No answer at all, plus the attack's cells: anything of the model answer it shows, it did not write."""
    def lay(place: Place, name: str) -> None:
        notebooks.write(build(place.release, Submission({}, change=chain(*changes))), notebook_path(place, name))
    return lay


def add_markdown(source, after="e1_output"):
    def change(nb):
        index = next(i for i, c in enumerate(nb.cells) if notebooks.grade_id(c) == after)
        nb.cells.insert(index + 1, notebooks.nbformat.v4.new_markdown_cell(source))
    return change


def link(target_of):
    """The hand-in's notebook is a link to a file the student chose."""
    def lay(place: Place, name: str) -> None:
        os.symlink(target_of(place), notebook_path(place, name))
    return lay


def link_folder(target_of, level="assignment"):
    def lay(place: Place, name: str) -> None:
        student = place.root / "submitted" / name
        if level == "student":
            os.symlink(target_of(place), student)
        else:
            student.mkdir(parents=True)
            os.symlink(target_of(place), student / course.ASSIGNMENT)
    return lay


def correct_beside(extra):
    """A correct notebook with something else in its folder."""
    def lay(place: Place, name: str) -> None:
        correct_with()(place, name)
        extra(place, folder(place, name))
    return lay


def raw_notebook(make_text):
    def lay(place: Place, name: str) -> None:
        notebook_path(place, name).write_bytes(make_text(place))
    return lay


def correct_text(place: Place) -> str:
    return notebooks.nbformat.writes(build(place.release, Submission(CORRECT)))


def with_invalid_utf8(place: Place) -> bytes:
    text = correct_text(place)
    marker = "Exercise 1"
    at = text.index(marker)
    return text[:at].encode() + b"\xff" + text[at:].encode()


def with_nbgrader_metadata_one(place: Place) -> bytes:
    nb = json.loads(correct_text(place))
    extra = {"cell_type": "code", "execution_count": None, "id": "odd-meta", "outputs": [],
             "metadata": {"nbgrader": 1}, "source": "print('hello')"}
    nb["cells"].insert(3, extra)
    return json.dumps(nb).encode()


def oversized(place: Place) -> bytes:
    nb = json.loads(correct_text(place))
    padding = "x" * (21 * 1024**2)
    nb["cells"][0]["metadata"]["padding"] = padding
    return json.dumps(nb).encode()


def many_cells(place: Place) -> bytes:
    nb = json.loads(correct_text(place))
    nb["cells"] += [{"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": "."} for i in range(20_000)]
    return json.dumps(nb).encode()


def deeply_nested(place: Place) -> bytes:
    return b'{"cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def fifo(place: Place, where: Path) -> None:
    os.mkfifo(where / "data.csv")


LONG_SUM = "total = " + " + ".join(["1"] * 3000) + "\nprint(total)"
# The kernel prints every cell it runs, hidden checks included, into the outputs
ECHO_CELLS = ("def echo(info):\n    print(info.raw_cell)\n"
              "get_ipython().events.register('pre_run_cell', echo)")
PRINT_IN = "print(In)"
# Links planted where the kernel works and where its sockets live, aimed at the grader's files
PLANT_LINKS = """import os, glob
from ipykernel.connect import get_connection_file
targets = ["{secret}", "{decoy}", "/etc/shadow", "/dev/zero", "/", "{root}/gradebook.db",
           "{root}/source/building_blocks/building_blocks.ipynb"]
for folder in (os.getcwd(), os.path.dirname(get_connection_file())):
    for i, target in enumerate(targets):
        for name in (f"leak{{i}}.png", f"kernel-{{i}}.json", f"zz{{i}}"):
            try:
                os.symlink(target, os.path.join(folder, name))
            except OSError:
                pass
try:
    os.mkfifo("pipe")
except OSError:
    pass
"""
SHOW_PLANTED = "![secret](leak0.png) ![gradebook](leak5.png) ![source](../../../source/building_blocks/figures/x.png)"
FILL_DISK = """written = 0
try:
    for i in range(25):
        with open(f"big{i}.bin", "wb") as handle:
            handle.write(b"0" * (60 * 1024**2))
        written += 1
except OSError:
    pass
print(written, "files written")"""
SCRIPTS_MARKDOWN = ('<script>document.title="owned"</script>\n\n<img src=x onerror="alert(1)">\n\n'
                    '[click](javascript:alert(1)) <a href="javascript:alert(2)">here</a>\n\n'
                    '<svg onload="alert(3)"></svg> <iframe src="https://example.org"></iframe>')
SCRIPTS_OUTPUT = ("from IPython.display import HTML, Javascript, display\n"
                  "display(HTML('<script>alert(4)</script><b onmouseover=\"alert(5)\">bold</b>'))\n"
                  "display(Javascript('alert(6)'))\n"
                  "display({'image/png': '\"><script>alert(7)</script>', 'text/plain': 'x'}, raw=True)")
FLOOD_OUTPUT = "for i in range(400_000):\n    print('x' * 250)"  # 100 MB of output
SLOW_CELLS = "import time\ntime.sleep(6)"
# Every process the limit allows, held while the notebook runs: jobs beside it must still start kernels
HOLD_PROCESSES = """import subprocess, time
held = []
try:
    while len(held) < 200:
        held.append(subprocess.Popen(["sleep", "60"]))
except OSError:
    pass
time.sleep(4)"""


def slow_hand_in(place: Place, name: str) -> None:
    # four slow cells after Exercise 2: the notebook's time runs out before Exercises 3 and 4
    changes = [add_cell(SLOW_CELLS, after="e2_outputs") for _ in range(4)]
    correct_with(*changes)(place, name)


# Folder names that nbgrader would read as globs or that break spreadsheets and the table
BAD_IDS = {
    "[A-Z[]*": "contains * ? [ or ]",
    "*": "contains * ? [ or ]",
    "correct ": "a space at the start or end",
    "=1+1": "starts with = + - or @",
    "@SUM(9*9)": "starts with = + - or @",
    "+cmd|' -C calc'!A0": "starts with = + - or @",
    "forged\n  correct  5  9  6  5  25  graded": "control character, a line break",
    "Jos\udce9": "not valid UTF-8",  # "José" from an archive written in Latin-1
}

ATTACKS = {
    "link_to_source_notebook": Attack(link(lambda p: "../../../source/building_blocks/building_blocks.ipynb"),
                                      "refused", None, "is a link"),
    "link_to_another_student": Attack(link(lambda p: p.root / "submitted" / "correct" / "building_blocks"
                                           / "building_blocks.ipynb"), "refused", None, "is a link"),
    "link_to_root_only_file": Attack(link(lambda p: p.secret), "refused", None, "is a link"),
    "link_to_passwd": Attack(link(lambda p: "/etc/passwd"), "refused", None, "is a link"),
    "link_to_device": Attack(link(lambda p: "/dev/zero"), "refused", None, "is a link"),
    "assignment_folder_link": Attack(link_folder(lambda p: "../../source/building_blocks"), "refused", None,
                                     "is a link"),
    "student_folder_link": Attack(link_folder(lambda p: p.root / "submitted" / "correct", level="student"),
                                  "refused", None, "not a folder"),
    "image_link_beside": Attack(correct_beside(lambda p, where: os.symlink(p.secret, where / "pic.png")),
                                "refused", None, "is a link"),
    "device_link_beside": Attack(correct_beside(lambda p, where: os.symlink("/dev/zero", where / "zero.png")),
                                 "refused", None, "is a link"),
    "fifo_beside": Attack(correct_beside(fifo), "refused", None, "is a pipe"),
    "folder_link_beside": Attack(correct_beside(lambda p, where: os.symlink("/", where / "figures")),
                                 "refused", None, "is a link"),
    "oversized_notebook": Attack(raw_notebook(oversized), "too large", None, "over the 20 MB"),
    "twenty_thousand_cells": Attack(raw_notebook(many_cells), "too large", None, "cells, over the"),
    "deeply_nested_json": Attack(raw_notebook(deeply_nested), "invalid notebook", None, "nests too deeply"),
    "nbgrader_metadata_one": Attack(raw_notebook(with_nbgrader_metadata_one), "tampered and restored", 25,
                                    "nbgrader marks that were not valid removed"),
    "invalid_utf8_byte": Attack(raw_notebook(with_invalid_utf8), "graded", 25, "not UTF-8 text replaced"),
    # IPython itself fails to compile it and its kernel stops answering: a timeout, the points before it kept
    "holds_every_process_it_may": Attack(correct_with(add_cell(HOLD_PROCESSES, after="e1_output")), "graded", 25),
    "three_thousand_term_sum": Attack(correct_with(add_cell(LONG_SUM, after="e1_output")), "timed out", 5,
                                      "points up to it kept"),
    "missing_attachment": Attack(correct_with(add_markdown("![lost](attachment:nothing.png)")), "graded", 25),
    "echo_cells_hook": Attack(correct_with(add_cell(ECHO_CELLS, after="e1_inputs_answer")), "graded", 25),
    "echo_cells_without_answers": Attack(blank_with(add_cell(ECHO_CELLS, after="e1_inputs_answer"),
                                                    add_cell(PRINT_IN, after="e4_output")), "graded", 0),
    "print_in": Attack(correct_with(*(add_cell(PRINT_IN, after=check) for check in
                                      ("e1_output", "e2_outputs", "e3_outputs", "e4_output"))), "graded", 25),
    "plant_links_in_scratch_and_sockets": Attack(lambda p, n: correct_with(
        add_cell(PLANT_LINKS.format(secret=p.secret, decoy=p.decoy, root=p.root), after="e1_output"),
        add_markdown(SHOW_PLANTED, after="e1_output"))(p, n), "graded", 25),
    "fill_the_disk": Attack(correct_with(add_cell(FILL_DISK, after="e1_output")), "graded", 25),
    "scripts_in_feedback": Attack(correct_with(add_markdown(SCRIPTS_MARKDOWN),
                                               add_cell(SCRIPTS_OUTPUT, after="e1_output")), "graded", 25),
    "flood_output": Attack(correct_with(add_cell(FLOOD_OUTPUT, after="e1_output")), "graded", 25),
    "slow_cells": Attack(slow_hand_in, "timed out", 14, "points up to it kept"),
}
for bad_id, reason in BAD_IDS.items():
    ATTACKS[bad_id] = Attack(correct_with(), "invalid student id", None, reason)


# --- More attacks, from a review that tried to break the grader ---

ECHO_DISGUISED = ("def echo(info):\n"
                  "    print('\\u200b'.join(info.raw_cell))\n"
                  "    print(info.raw_cell[::-1])\n"
                  "get_ipython().events.register('pre_run_cell', echo)")
# Deep folders and big files where the kernel keeps its sockets: all inside the sandbox's /tmp now
FILL_KERNEL_FOLDER = """import os
from ipykernel.connect import get_connection_file
folder = os.path.dirname(get_connection_file())
fd = os.open(folder, os.O_RDONLY)
for i in range(1500):
    try:
        os.mkdir("d", dir_fd=fd)
        deeper = os.open("d", os.O_RDONLY, dir_fd=fd)
    except OSError:
        break
    os.close(fd)
    fd = deeper
os.close(fd)
try:
    with open(os.path.join(folder, "payload.bin"), "wb") as handle:
        for i in range(40):
            handle.write(b"1" * 1024**2)
except OSError:
    pass"""
QUADRATIC_HTML = "print('<' * 150_000)"
WIDGET_FLOOD = ("from ipykernel.comm import Comm\n"
                "Comm(target_name='jupyter.widget', data={'state': {'_model_name': 'X', 'v': 'x' * 20_000_000}})")

ATTACKS |= {
    "echo_cells_disguised": Attack(blank_with(add_cell(ECHO_DISGUISED, after="e1_inputs_answer"),
                                              add_cell(PRINT_IN, after="e4_output")), "graded", 0),
    "fill_the_kernel_folder": Attack(correct_with(add_cell(FILL_KERNEL_FOLDER, after="e1_output")), "graded", 25),
    "quadratic_html": Attack(correct_with(*(add_cell(QUADRATIC_HTML, after=check) for check in ("e1_output", "e2_outputs"))),
                             "graded", 25),
    # a malformed widget message breaks the grader's side of the kernel protocol: the kernel counts as dead
    "widget_flood": Attack(correct_with(add_cell(WIDGET_FLOOD, after="e1_output")), "kernel died", 5,
                           "points up to it kept"),
}


# --- Honest hand-ins that odd-looking defences must not hurt ---

PLOT = ("%matplotlib inline\nimport matplotlib.pyplot as plt\nimport numpy as np\nplt.figure(figsize=(7, 7))\n"
        "plt.imshow(np.random.default_rng({seed}).random((400, 400)))\nplt.show()")
MODULE_ANSWER = ("from neuron import neuron_output\noutput = neuron_output(inputs, weights, bias)\n"
                 "import numpy as np\nprint(np.loadtxt('data/weights.csv', delimiter=','))")


def split_answer_cell(nb):
    """JupyterLab's *Split Cell* at the end of an answer: both halves carry the answer's marks and id."""
    index = next(i for i, c in enumerate(nb.cells) if notebooks.grade_id(c) == "e2_outputs_answer")
    half = notebooks.nbformat.from_dict(nb.cells[index])
    half.source = "# (rest of the answer, split off)"
    half["id"] = "split-off-half"  # a new id, as JupyterLab gives it; the marks are copied
    nb.cells.insert(index + 1, half)


def retype_answer_cell(nb):
    """The answer cell deleted and its code typed again into a new cell in the same place."""
    index = next(i for i, c in enumerate(nb.cells) if notebooks.grade_id(c) == "e1_bias_answer")
    nb.cells[index] = notebooks.nbformat.v4.new_code_cell(nb.cells[index].source)


def with_files(files: dict, answers=None):
    def lay(place: Place, name: str) -> None:
        where = folder(place, name)
        notebooks.write(build(place.release, Submission(answers or CORRECT)), where / f"{course.NOTEBOOK}.ipynb")
        for relative, content in files.items():
            (where / relative).parent.mkdir(parents=True, exist_ok=True)
            (where / relative).write_bytes(content)
    return lay


def with_byte_order_mark(place: Place) -> bytes:
    return b"\xef\xbb\xbf" + correct_text(place).encode()


@dataclass(frozen=True)
class Honest:
    lay: object
    status: str = "graded"
    note: str = ""


HONEST_EDGE = {
    "many_plots": Honest(correct_with(*(add_cell(PLOT.format(seed=i)) for i in range(24)))),
    "module_and_data_file": Honest(with_files({"neuron.py": b"def neuron_output(inputs, weights, bias):\n"
                                                            b"    return sum(x * w for x, w in zip(inputs, weights)) + bias\n",
                                               "data/weights.csv": b"0.2,0.8,-0.5\n"},
                                              {**CORRECT, "e1_output_answer": MODULE_ANSWER}),
                                   note="given to it read-only: data/weights.csv, neuron.py"),
    "split_answer_cell": Honest(correct_with(split_answer_cell), note="a split cell?"),
    "retyped_answer_cell": Honest(correct_with(retype_answer_cell), note="e1_bias_answer: deleted cell put back"),
    "git_history_and_mac_files": Honest(with_files({**{f".git/objects/{i:03d}": b"x" for i in range(250)},
                                                    "._building_blocks.ipynb": b"\x00\x05\x16\x07"})),
    "byte_order_mark": Honest(raw_notebook(with_byte_order_mark), note="byte-order mark removed"),
    "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627": Honest(correct_with()),  # a Persian name: a zero-width non-joiner
    "Jane\u00a0Doe": Honest(correct_with()),  # a no-break space between the names
    "jane.doe@example.edu": Honest(correct_with()),
}


# --- Attacks on the sandbox the kernel leaves to the recheck (coursetools/engine/kernel_boot.py) ---

# Every process the kernel may signal: the sandbox's first process, kept for the rerun, goes too
# kill(-1) spares its caller: the kernel ends when ipykernel's own check finds its parent gone, up to a
# second later, so the cell waits out that second: the cells after it never depend on the machine's speed
KILL_EVERY_PROCESS = "import os, signal, time\nos.kill(-1, signal.SIGKILL)\ntime.sleep(5)"
# A process that outlives the kernel, deaf to polite signals, and then keeps making the folder
# the student's own cell makes: if it ran on into the rerun, that cell would raise there
LEAVE_A_PROCESS = """import os, signal, time
kernel = os.getpid()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for name in ("SIGTERM", "SIGHUP", "SIGINT"):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        while True:
            try:
                os.kill(kernel, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
        while True:
            try:
                os.mkdir("/tmp/results")
            except OSError:
                pass
            time.sleep(0.001)
    os._exit(0)
os.wait()"""
MAKES_ITS_FOLDER = ("import os\n\nos.mkdir('results')\n"
                    "output = sum(x * w for x, w in zip(inputs, weights)) + bias")

ATTACKS |= {
    "kills_every_process_it_may": Attack(correct_with(add_cell(KILL_EVERY_PROCESS, after="e2_outputs")),
                                         "kernel died", 14, "points up to it kept"),
    "leaves_a_process_for_the_rerun": Attack(correct_with(set_source("e1_output_answer", MAKES_ITS_FOLDER),
                                                          add_cell(LEAVE_A_PROCESS, after="e1_output")), "graded", 25),
}

# Found by an independent review of the kept sandbox; each would once have cost a point, a hang or
# a leftover reaching the rerun. `LEFT_FOR_THE_RERUN` runs before Exercise 1's check: whatever the
# kernel left that the rerun still saw would make its result 0 there.
STOP_THE_FIRST_PROCESS = "import os, signal\nos.kill(os.getppid(), signal.{signal})"
BIG_COMMENT_CELL = "\n".join(["# " + "x" * 98] * 2_000)  # a plan too big for a pipe's buffer
LEFT_FOR_THE_RERUN = ("import ctypes, os\n"
                      "if (os.path.exists('/tmp/marker') or os.path.exists('/tmp/.kernel/marker')\n"
                      "        or ctypes.CDLL(None).shmget(0x1234, 4096, 0) >= 0 or os.path.exists('/tmp/ran_in_waiter')):\n"
                      "    output = 0.0")
LEAVE_MARKERS = ("import ctypes, os\n"
                 "open('/tmp/marker', 'w').close()\n"
                 "open('/tmp/.kernel/marker', 'w').close()\n"
                 "os.makedirs('/tmp/zzz/b')\n"
                 "os.chmod('/tmp/zzz', 0)\n"
                 "print(ctypes.CDLL(None).shmget(0x1234, 4096, 0o1000 | 0o600) >= 0)")
MANY_LOCKED_FOLDERS = ("import os\n"
                       "for i in range(10_000):\n"
                       "    os.mkdir(f'/tmp/d{i}')\n"
                       "    open(f'/tmp/d{i}/f', 'w').close()\n"
                       "    os.chmod(f'/tmp/d{i}', 0o555)")
# A module of the standard library's name beside the notebook: it must never run before the kernel
SHADOW_SELECT = b"""import os, sys
_saved = sys.path[:]
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
del sys.modules["select"]
import select as _real
sys.path[:] = _saved
sys.modules["select"] = _real
open("/tmp/ran_in_waiter", "a").write(f"{os.getpid()}\\n")
"""


def with_shadow_module(place: Place, name: str) -> None:
    correct_with(add_cell(LEFT_FOR_THE_RERUN, before="e1_output"))(place, name)
    (folder(place, name) / "select.py").write_bytes(SHADOW_SELECT)


ATTACKS |= {
    "stops_the_kept_sandbox": Attack(correct_with(add_cell(BIG_COMMENT_CELL, after="e1_inputs"),
                                                  add_cell(STOP_THE_FIRST_PROCESS.format(signal="SIGSTOP"))),
                                     "graded", 25),
    "suspends_the_kept_sandbox": Attack(correct_with(add_cell(STOP_THE_FIRST_PROCESS.format(signal="SIGTSTP"))),
                                        "graded", 25),
    "leaves_files_and_memory_for_the_rerun": Attack(correct_with(add_cell(LEFT_FOR_THE_RERUN, before="e1_output"),
                                                                 add_cell(LEAVE_MARKERS)), "graded", 25),
    "leaves_ten_thousand_locked_folders": Attack(correct_with(add_cell(MANY_LOCKED_FOLDERS)), "graded", 25),
    "shadows_a_module_the_sandbox_loads": Attack(with_shadow_module, "graded", 25),
}
