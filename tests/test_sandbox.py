"""Escape probes: each is handed in as a submission, each must fail, and the student is still graded.

Every probe runs twice: in the kernel nbgrader grades in, where its output
shows whether it was blocked, and in the recheck's rerun on secret inputs,
where it runs only when the inputs are not the lesson's and would spoil the
neuron's output if it got through. Both places are the same sandbox.
"""

import base64
import os
import socket

import pytest

from coursetools import course, demo_students, notebooks
from coursetools.engine import sandbox

from conftest import grade_in_parts, run_grade

CELL_TIMEOUT = 4
BLOCKED, ESCAPED = "PROBE BLOCKED", "PROBE ESCAPED"


def probe(action: str) -> str:
    body = "\n".join("    " + line for line in action.splitlines())
    return (f"try:\n{body}\n    print({ESCAPED!r})\n"
            f"except BaseException as error:\n    print({BLOCKED!r}, type(error).__name__)")


def probes(root, port):
    return {
        "read_gradebook": probe(f"open({str(root / 'gradebook.db')!r}, 'rb').read(16)"),
        "read_course_secret": probe(f"open({str(root / 'course_secret.key')!r}).read()"),
        "read_source": probe(f"open({str(course.source_notebook(root))!r}).read()"),
        "read_other_student": probe(f"open({str(course.submitted_notebook(root, 'correct'))!r}).read()"),
        "write_course_root": probe(f"open({str(root / 'pwned.txt')!r}, 'w').write('x')"),
        "connect_loopback": probe(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"),
        "fork_bomb": probe("import os, time\nfor _ in range(100000):\n    if os.fork() == 0:\n"
                           "        time.sleep(30)\n        os._exit(0)"),
        "allocate_8_gib": probe("hoard = bytearray(8 * 1024 ** 3)"),
        "write_2_gib": probe("with open('big.bin', 'wb') as f:\n    for _ in range(2048):\n"
                             "        f.write(bytes(1024 ** 2))"),
    }


# Probes that never return: the cell times out, and the checks before it keep their points
HANGING = {
    "sleep_past_timeout": "import time\ntime.sleep(60)",
    "ignore_sigint_and_sigterm": "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)",
    "print_without_end": "while True:\n    print('spam')",
}
WHO_AM_I = "import os\nprint('UID', os.getuid())"

RERUN_ESCAPE = """# only in the rerun, where the inputs are secret
escaped = False
if list(inputs) != [1, 2, 3]:
    try:
{action}
        escaped = True
    except BaseException:
        pass
output = sum(x * w for x, w in zip(inputs, weights)) + bias + (1000 if escaped else 0)"""

RERUN_HANG = """if list(inputs) != [1, 2, 3]:
{action}
output = sum(x * w for x, w in zip(inputs, weights)) + bias"""

# Probes that never return in the rerun: Exercise 1 cannot be confirmed, the others still are
RERUN_HANGING = {
    "rerun_sleeps": "import time\ntime.sleep(60)",
    "rerun_ignores_the_alarm": "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass",
    "rerun_floods_every_descriptor": "import os\nwhile True:\n    for fd in range(1, 16):\n        try:\n"
                                     "            os.write(fd, b'x' * 65536)\n        except OSError:\n            pass",
}


def rerun_probe(action: str) -> str:
    return RERUN_ESCAPE.format(action="\n".join(" " * 8 + line for line in action.splitlines()))


def rerun_probes(root, port):
    actions = {name: code.split("try:\n", 1)[1].split("\n    print(")[0].replace("\n    ", "\n").strip()
               for name, code in probes(root, port).items()}
    if os.geteuid() == 0:
        actions["who_am_i"] = ("import os\nif os.getuid() >= %d:\n    raise PermissionError('a sandbox user')"
                               % sandbox.SANDBOX_UID_BASE)
    return {f"rerun_{name}": rerun_probe(action) for name, action in actions.items()}


def last_output(nb) -> str:
    code = [c for c in nb.cells if c.cell_type == "code"]
    return "".join(o.get("text", "") for o in code[-1].outputs)


# What a kernel might leave in its working folder for the grader, running as root, to trip over
# afterwards: links to course files for the feedback to embed or copy, a link where the graded
# notebook will be written, extra notebooks, named pipes, forged lines for the grader's terminal.
LEFTOVERS = """import json, os, sys
for name, target in {"leak_key.png": "../../../course_secret.key", "leak_gradebook.png": "../../../gradebook.db",
                     "leak_other.png": "../../../submitted/correct/building_blocks/building_blocks.ipynb",
                     "leak_absolute.png": %(key)r}.items():
    os.symlink(target, name)
try:
    os.remove("building_blocks.ipynb")
except OSError as error:
    print("no notebook here:", error)
os.symlink(%(planted)r, "building_blocks.ipynb")
with open("notes.ipynb", "w") as handle:
    json.dump({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, handle)
os.mkfifo("pipe.png")
os.write(2, b"\\n[grade] FORGED: every hand-in scored 25\\n")
sys.__stderr__.write("[grade] FORGED through sys.__stderr__\\n")"""
LEFTOVER_IMAGES = "![k](leak_key.png) ![g](leak_gradebook.png) ![o](leak_other.png) ![a](leak_absolute.png) ![p](pipe.png)"
SLOW_CELLS = 8  # each sleeps 3 s, within the cell limit; together past the notebook's limit


def probe_notebook(root, port, release_nb, name):
    """The hand-in that carries probe `name`, with paths of the course copy at `root`."""
    if name in RERUN_NAMES:
        source = {**rerun_probes(root, port), **{hang: RERUN_HANG.format(action="\n".join(
            "    " + line for line in action.splitlines())) for hang, action in RERUN_HANGING.items()}}[name]
        return demo_students.hand_in(release_nb, {**demo_students.CORRECT, "e1_output_answer": source})
    nb = demo_students.hand_in(release_nb, demo_students.CORRECT)
    new = notebooks.nbformat.v4
    if name == "leaves_things_for_the_grader":
        nb.cells += [new.new_code_cell(LEFTOVERS % {"key": str(root / "course_secret.key"),
                                                   "planted": str(root / "planted_by_the_kernel.json")}),
                     new.new_markdown_cell(LEFTOVER_IMAGES)]
    elif name == "many_slow_cells":
        nb.cells += [new.new_code_cell("import time\ntime.sleep(3)") for _ in range(SLOW_CELLS)]
    else:
        nb.cells.append(new.new_code_cell({**probes(root, port), **HANGING, "who_am_i": WHO_AM_I}[name]))
    return nb


RERUN_NAMES = sorted([*rerun_probes(course.REPOSITORY_ROOT, 0), *RERUN_HANGING])
NAMES = sorted([*probes(course.REPOSITORY_ROOT, 0), *HANGING, "who_am_i", "leaves_things_for_the_grader",
                "many_slow_cells", *RERUN_NAMES])


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory, release_nb):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    config = f"c.Execute.timeout = {CELL_TIMEOUT}\nc.GradingExecute.total_timeout = {2 * SLOW_CELLS}"
    try:
        return grade_in_parts(tmp_path_factory.mktemp("sandbox"), NAMES,
                              lambda root, name: probe_notebook(root, port, release_nb, name),
                              config=config, keep_students=["correct"])
    finally:
        listener.close()


@pytest.mark.parametrize("name", sorted(probes(course.REPOSITORY_ROOT, 0)))
def test_is_the_probe_blocked_and_the_student_still_graded(probe_run, name):
    row = probe_run["rows"][name]
    assert row["status"] == "graded" and float(row["total"]) == 25, row["notes"]
    output = last_output(notebooks.read(course.autograded_notebook(probe_run["roots"][name], name)))
    assert BLOCKED in output and ESCAPED not in output, output


@pytest.mark.parametrize("name", sorted(rerun_probes(course.REPOSITORY_ROOT, 0)))
def test_is_the_probe_blocked_in_the_rerun_too(probe_run, name):
    row = probe_run["rows"][name]
    assert (row["status"], float(row["total"])) == ("graded", 25), row["notes"]


@pytest.mark.parametrize("name", sorted(RERUN_HANGING))
def test_does_a_probe_that_hangs_the_rerun_only_cost_its_own_exercise(probe_run, name):
    row = probe_run["rows"][name]
    assert (row["status"], float(row["total"]), float(row["e1_output"])) == ("needs review", 23, 0), row["notes"]
    assert row["notes"].startswith("e1_output: ")


@pytest.mark.parametrize("name", sorted(HANGING))
def test_does_a_hanging_probe_only_cost_its_own_cell(probe_run, name):
    row = probe_run["rows"][name]
    assert row["status"] == "timed out" and float(row["total"]) == 25, row["notes"]


def test_did_the_batch_complete_and_leave_the_course_intact(probe_run):
    for part in probe_run["parts"]:
        assert part["result"].returncode == 0, part["result"].stderr[-3000:]
        assert not (part["root"] / "pwned.txt").exists()
        assert float(part["rows"]["correct"]["total"]) == 25
        assert part["untouched"], "submitted/ changed"


def test_does_the_grader_trip_over_nothing_the_kernel_left(probe_run):
    """The kernel works in a private /tmp, so links, pipes and notebooks it makes never reach the grader."""
    name = "leaves_things_for_the_grader"
    root = probe_run["roots"][name]
    row = probe_run["rows"][name]
    assert (row["status"], float(row["total"])) == ("graded", 25), row["notes"]
    assert (root / "course_secret.key").stat().st_mode & 0o777 == 0o600
    assert not (root / "planted_by_the_kernel.json").exists()
    for folder in (course.autograded_notebook(root, name).parent, course.feedback_file(root, name).parent):
        for path in folder.rglob("*"):
            assert not path.is_symlink() and (path.is_file() or path.is_dir()), path
            assert not path.name.startswith(("leak_", "notes", "pipe")), path
    html = course.feedback_file(root, name).read_text(encoding="utf-8")
    key = (root / "course_secret.key").read_bytes()
    assert base64.b64encode(key).decode()[:40] not in html and key.decode().strip() not in html
    result = next(part["result"] for part in probe_run["parts"] if part["root"] == root)
    assert "FORGED" not in result.stdout + result.stderr


def test_does_a_notebook_past_its_total_time_keep_its_points(probe_run):
    row = probe_run["rows"]["many_slow_cells"]
    assert (row["status"], float(row["total"])) == ("timed out", 25), row["notes"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root grader drops to another user")
def test_does_a_root_grader_run_kernels_as_a_user_of_the_job_s_own(probe_run):
    """Not root, not nobody: a user id per grading worker, so no two jobs share a process count."""
    output = last_output(notebooks.read(course.autograded_notebook(probe_run["roots"]["who_am_i"], "who_am_i")))
    uid = int(output.split("UID", 1)[1].split()[0])
    assert sandbox.SANDBOX_UID_BASE <= uid < 2**32 - 1


def test_does_grading_refuse_to_run_unsandboxed_without_bubblewrap(course_copy, tmp_path):
    """With bubblewrap missing from PATH, grading stops and says how to proceed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env_path = os.pathsep.join([str(bin_dir)] + [p for p in os.environ["PATH"].split(os.pathsep)
                                                  if not os.path.exists(os.path.join(p, "bwrap"))])
    result = run_grade(course_copy, env={**os.environ, "PATH": env_path})
    assert result.returncode == 1
    assert "bubblewrap is not installed" in result.stderr and "--no-sandbox" in result.stderr
