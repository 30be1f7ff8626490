"""Escape probes: each is handed in as a submission, each must fail, and the student is still graded.

Every probe runs twice: in the kernel nbgrader grades in, where its output
shows whether it was blocked, and in the recheck's rerun on secret inputs,
where it runs only when the inputs are not the lesson's and would spoil the
neuron's output if it got through. Both places are the same sandbox.
"""

import csv
import os
import socket

import pytest

from coursetools import course, demo_students, notebooks

from conftest import copy_course, run_grade

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
        actions["who_am_i"] = "import os\nif os.getuid() == 65534:\n    raise PermissionError('nobody')"
    return {f"rerun_{name}": rerun_probe(action) for name, action in actions.items()}


def last_output(nb) -> str:
    code = [c for c in nb.cells if c.cell_type == "code"]
    return "".join(o.get("text", "") for o in code[-1].outputs)


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory, release_nb):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    root = copy_course(tmp_path_factory.mktemp("sandbox") / "course", keep_students=["correct"])
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    port = listener.getsockname()[1]
    cells = {**probes(root, port), **HANGING, "who_am_i": WHO_AM_I}
    for name, source in cells.items():
        nb = demo_students.hand_in(release_nb, demo_students.CORRECT)
        nb.cells.append(notebooks.nbformat.v4.new_code_cell(source))
        notebooks.write(nb, course.submitted_notebook(root, name))
    in_rerun = {**rerun_probes(root, port), **{name: RERUN_HANG.format(action="\n".join(
        "    " + line for line in action.splitlines())) for name, action in RERUN_HANGING.items()}}
    for name, source in in_rerun.items():
        answers = {**demo_students.CORRECT, "e1_output_answer": source}
        notebooks.write(demo_students.hand_in(release_nb, answers), course.submitted_notebook(root, name))
    try:
        result = run_grade(root)
    finally:
        listener.close()
    with open(root / "scores.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"root": root, "result": result, "rows": rows}


@pytest.mark.parametrize("name", sorted(probes(course.REPOSITORY_ROOT, 0)))
def test_is_the_probe_blocked_and_the_student_still_graded(probe_run, name):
    row = probe_run["rows"][name]
    assert row["status"] == "graded" and float(row["total"]) == 25, row["notes"]
    output = last_output(notebooks.read(course.autograded_notebook(probe_run["root"], name)))
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
    assert probe_run["result"].returncode == 0, probe_run["result"].stderr[-3000:]
    assert not (probe_run["root"] / "pwned.txt").exists()
    assert float(probe_run["rows"]["correct"]["total"]) == 25


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root grader drops to another user")
def test_does_a_root_grader_run_kernels_as_nobody(probe_run):
    output = last_output(notebooks.read(course.autograded_notebook(probe_run["root"], "who_am_i")))
    assert "UID 65534" in output


def test_does_grading_refuse_to_run_unsandboxed_without_bubblewrap(course_copy, tmp_path):
    """With bubblewrap missing from PATH, grading stops and says how to proceed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env_path = os.pathsep.join([str(bin_dir)] + [p for p in os.environ["PATH"].split(os.pathsep)
                                                  if not os.path.exists(os.path.join(p, "bwrap"))])
    result = run_grade(course_copy, env={**os.environ, "PATH": env_path})
    assert result.returncode == 1
    assert "bubblewrap is not installed" in result.stderr and "--no-sandbox" in result.stderr
