"""Hostile hand-ins win nothing, read nothing, change nothing, and never stop the batch.

Every attack in tests/hostile.py is graded in one `make grade` run next to
the demo students and honest hand-ins named to come after the attackers,
as root when the suite runs as root. Then: each attack's exact status and
score; every honest student's full score; no secret, hidden test, solution
or gradebook byte anywhere a student or a spreadsheet could see it; no file
outside the course changed; no feedback page that could run a script.
"""

import csv
import hashlib
import os
import stat
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from coursetools import course, notebooks
from coursetools.engine import handin, leak_cut, sandbox

from conftest import copy_course, grade_in_parts, marked_lines, run_grade
from corpus_tools import CORRECT, Submission, add_cell, build
from hostile import ATTACKS, BAD_IDS, HONEST_EDGE, SECRET, Place, correct_with
from test_grading import EXPECTED

# Honest hand-ins graded after every attacker (names sort last), and one whose id is a prefix of another's
HONEST_AFTER = ["zz_after_every_attack", "corr"]
# Demo students graded in every part: a full score, and a review flag a glob id must not undo
DEMO = ["correct", "typed_in_result"]
# Budgets scaled down so the slow attack costs seconds, not minutes
CONFIG = """
c.Execute.timeout = 10
c.GradingExecute.total_timeout = 20
c.Recheck.timeout = 40
c.HandInJob.wall_budget = 120
"""
GRADEBOOK_HEADER = b"SQLite format 3"
# The budget test's: well above an honest hand-in's time on a loaded machine, well below its sleep
BUDGET = 20


def fingerprint(path: Path):
    """Owner, mode and content of a file, read as the grader would never: here, on purpose."""
    info = os.lstat(path)
    content = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else None
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), content


def outside_files(place: Place) -> list[Path]:
    watched = [place.secret, place.decoy, Path("/etc/passwd"), Path("/etc/shadow"), Path("/etc/hostname")]
    return [path for path in watched if path.exists()]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, release_nb):
    base = tmp_path_factory.mktemp("hostile")
    outside = base / "outside"
    outside.mkdir()
    secret, decoy = outside / "secret.txt", outside / "decoy.txt"
    secret.write_text(SECRET)
    secret.chmod(0o600)
    decoy.write_text(SECRET)
    decoy.chmod(0o644)

    def lay(root, name):
        place = Place(root, outside, secret, decoy, release_nb)
        laid = ATTACKS.get(name) or HONEST_EDGE.get(name)
        (laid.lay if laid else correct_with())(place, name)

    watched_place = Place(base, outside, secret, decoy, release_nb)
    watched = {path: fingerprint(path) for path in outside_files(watched_place)}
    # Smaller runs that mostly wait (a sleeping hand-in, workers that cannot start, nbgrader's
    # own commands) go alongside the two parts rather than after them
    side = ThreadPoolExecutor(3)
    side_runs = {"budget": side.submit(budget_run, base / "budget", release_nb),
                 "memory": side.submit(memory_run, base / "memory"),
                 "nbgrader_commands": side.submit(nbgrader_commands_run, base / "nbgrader", release_nb)}
    # every part grades the demo students and one honest hand-in after its attackers
    names = sorted(ATTACKS) + sorted(HONEST_EDGE) + HONEST_AFTER
    graded = grade_in_parts(base, names, lay=lay, config=CONFIG, keep_students=DEMO)
    side.shutdown(wait=False)
    return {**graded, **side_runs, "watched": watched}


def csv_name(student: str) -> str:
    """How scores.csv writes an id: one that starts like a formula gets a leading apostrophe."""
    written = student.encode("utf-8", "backslashreplace").decode()  # bytes that were not UTF-8, escaped
    return "'" + written if written.startswith(handin.FORMULA_STARTS) else written


def row_of(run, student):
    return run["rows"][csv_name(student)]


def root_of(run, student):
    return run["roots"][csv_name(student)]


def test_does_the_batch_finish_with_every_student(hostile_run):
    for part in hostile_run["parts"]:
        result = part["result"]
        assert result.returncode == 1, result.stderr[-3000:]  # some hand-ins were not graded, and it says so
        assert f"\n{len(part['rows'])} hand-ins: " in result.stdout
        assert (part["root"] / "grades.csv").is_file()
    assert set(hostile_run["rows"]) == {csv_name(n) for n in [*ATTACKS, *HONEST_EDGE, *DEMO, *HONEST_AFTER]}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_does_each_attack_end_exactly_as_expected(hostile_run, name):
    attack = ATTACKS[name]
    row = row_of(hostile_run, name)
    assert row["status"] == attack.status, row["notes"]
    assert attack.note in row["notes"]
    with Gradebook(course.gradebook_url(root_of(hostile_run, name))) as gb:
        if attack.total is None:
            assert row["total"] == "", "a hand-in that was never graded must not look like a zero"
            assert name not in {student.id for student in gb.students}, "nothing of it reached nbgrader"
        else:
            assert float(row["total"]) == attack.total
            assert gb.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, name).score == attack.total


@pytest.mark.parametrize("name", sorted(HONEST_EDGE))
def test_does_an_honest_hand_in_that_looks_odd_keep_full_marks(hostile_run, name):
    row = row_of(hostile_run, name)
    assert (row["status"], row["total"]) == (HONEST_EDGE[name].status, "25"), row["notes"]
    assert HONEST_EDGE[name].note in row["notes"]


def test_does_every_honest_student_keep_their_score(hostile_run):
    for part in hostile_run["parts"]:
        honest = {name: 25 for name in HONEST_AFTER if name in part["rows"]}
        with Gradebook(course.gradebook_url(part["root"])) as gb:
            for student, total in ({s: EXPECTED[s][1] for s in DEMO} | honest).items():
                assert gb.find_submission_notebook(course.NOTEBOOK, course.ASSIGNMENT, student).score == total, student
        assert part["rows"]["typed_in_result"]["status"] == "needs review", "a glob id cannot regrade it"


def shown_to_students_and_spreadsheets(run) -> dict[str, bytes]:
    files = {}
    for part in run["parts"]:
        root = part["root"]
        files |= {str(p): p.read_bytes() for p in (root / "feedback").rglob("*") if p.is_file() and not p.is_symlink()}
        for name in ("scores.csv", "grades.csv"):
            files[str(root / name)] = (root / name).read_bytes()
        files[f"{root} stdout"] = part["result"].stdout.encode()
        files[f"{root} stderr"] = part["result"].stderr.encode()
    return files


def test_does_no_secret_reach_a_student_or_the_instructor(hostile_run):
    everything = shown_to_students_and_spreadsheets(hostile_run)
    for part in hostile_run["parts"]:
        everything |= {str(p): p.read_bytes() for p in (part["root"] / "autograded").rglob("*") if p.is_file()}
    passwd = Path("/etc/passwd").read_bytes().splitlines()[0]
    for where, content in everything.items():
        assert SECRET.encode() not in content, f"the planted secret is in {where}"
        assert GRADEBOOK_HEADER not in content, f"gradebook bytes are in {where}"
        assert passwd not in content, f"/etc/passwd is in {where}"


def own_lines(root: Path, student: str) -> set[str]:
    """Lines the student wrote: a correct hand-in shows its own answers, which are the model answer's lines."""
    path = course.submitted_notebook(root, student)
    if path.is_symlink() or not path.is_file():
        return set()
    nb = notebooks.nbformat.reads(path.read_bytes().decode("utf-8-sig", errors="replace"), as_version=4)
    return {line.strip() for cell in nb.cells for line in notebooks.as_text(cell.get("source")).splitlines()}


def test_does_no_feedback_or_note_show_a_hidden_test_or_a_solution(hostile_run, source_nb, release_nb):
    public = {line.strip() for cell in release_nb.cells for line in cell.source.splitlines()}
    hidden = {line for line in marked_lines(source_nb, notebooks.HIDDEN_BEGIN, notebooks.HIDDEN_END) if len(line) >= 8}
    solutions = {line for line in marked_lines(source_nb, notebooks.SOLUTION_BEGIN, notebooks.SOLUTION_END) - public
                 if len(line) >= 8 and not leak_cut.states_a_value(line)}  # the lesson gives those values
    assert hidden and solutions
    for part in hostile_run["parts"]:
        for page in (part["root"] / "feedback").rglob("*.html"):
            student = page.relative_to(part["root"] / "feedback").parts[0]
            page_text = page.read_text(encoding="utf-8")
            visible = "".join(ch for ch in page_text if unicodedata.category(ch) != "Cf")  # zero-width spaces out
            text = visible + "\n" + visible[::-1]  # and printed backwards
            leaked = {line for line in hidden | (solutions - own_lines(part["root"], student)) if line in text}
            assert not leaked, f"{student}'s feedback: {sorted(leaked)[:3]}"
        for text in (part["result"].stdout, part["result"].stderr, (part["root"] / "scores.csv").read_text()):
            assert not {line for line in hidden if line in text}


def is_a_sandbox_user(uid: int) -> bool:
    return uid == sandbox.KERNEL_UID or uid >= sandbox.SANDBOX_UID_BASE


def test_does_no_kernel_leave_anything_on_the_host(hostile_run):
    """Kernels run as a user of their job's own when grading as root: nothing they wrote may outlive their sandbox."""
    if os.geteuid() != 0:
        pytest.skip("kernels run as the grader's own user: their files cannot be told apart")
    left = [entry.name for entry in os.scandir("/tmp") if is_a_sandbox_user(entry.stat(follow_symlinks=False).st_uid)]
    assert not left, f"left in /tmp by a kernel: {left[:5]}"


def test_is_nothing_outside_the_course_changed(hostile_run):
    for path, before in hostile_run["watched"].items():
        assert fingerprint(path) == before, f"{path} changed owner, mode or content"
    assert all(part["untouched"] for part in hostile_run["parts"]), "submitted/ changed"


class ActiveContent(HTMLParser):
    """Anything in a page that a browser could run or that could reach the network."""

    RUNNABLE = {"script", "iframe", "object", "embed", "base", "form", "frame", "applet"}

    def __init__(self):
        super().__init__()
        self.found, self.policy = [], None

    def handle_starttag(self, tag, attrs):
        if tag in self.RUNNABLE:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction", "xlink:href") and \
                    value.replace("\t", "").replace("\n", "").startswith(("javascript:", "vbscript:", "http:", "https:", "//")):
                self.found.append(f"{tag} {name}={value[:30]}")
        if tag == "meta":
            attributes = dict(attrs)
            if (attributes.get("http-equiv") or "").lower() == "content-security-policy":
                self.policy = attributes.get("content", "")
            if (attributes.get("http-equiv") or "").lower() == "refresh":
                self.found.append("meta refresh")


def test_is_every_feedback_page_inert(hostile_run):
    pages = sorted(page for part in hostile_run["parts"] for page in (part["root"] / "feedback").rglob("*.html"))
    assert len(pages) >= 2 * len(DEMO) + len(HONEST_AFTER)
    for page in pages:
        scan = ActiveContent()
        scan.feed(page.read_text(encoding="utf-8"))
        assert not scan.found, f"{page.parent.parent.name}: {scan.found[:5]}"
        assert scan.policy and "script-src 'none'" in scan.policy.replace("default-src 'none'", "script-src 'none'")


def test_does_the_table_never_show_a_forged_row(hostile_run):
    for part in hostile_run["parts"]:
        table = part["result"].stdout.split("\n\nnotes:")[0].splitlines()[2:]
        students = [name for name in [*ATTACKS, *HONEST_EDGE, *DEMO, *HONEST_AFTER] if csv_name(name) in part["rows"]]
        for line in table:
            assert any(line.startswith(handin.shown_name(name) + " ") for name in students), f"a line no student owns: {line!r}"
        assert len(table) == len(students)


def test_does_no_spreadsheet_cell_start_a_formula(hostile_run):
    for name in [part["root"] / csv_file for part in hostile_run["parts"] for csv_file in ("scores.csv", "grades.csv")]:
        with open(name, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@", "\t", "\r")), f"{name}: {cell!r}"
                    assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit(), f"{name}: {cell!r}"


@pytest.mark.parametrize("bad_id", sorted(BAD_IDS))
def test_does_a_refused_id_say_how_to_rename_the_folder(hostile_run, bad_id):
    notes = row_of(hostile_run, bad_id)["notes"]
    assert "rename the folder in submitted/" in notes and notes.isprintable()


def nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "nbgrader"), *args], cwd=root,
                          capture_output=True, text=True, timeout=600)


REFUSED_BY_NBGRADER = ("link_to_source_notebook", "image_link_beside", "student_folder_link", "[A-Z[]*")


def nbgrader_commands_run(base: Path, release_nb) -> dict:
    """nbgrader's own commands, run by hand on a submitted/ that holds linked hand-ins and a glob id."""
    root = copy_course(base / "course", keep_students=["correct"])
    outside = base / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(SECRET)
    secret.chmod(0o600)
    place = Place(root, outside, secret, secret, release_nb)
    for name in REFUSED_BY_NBGRADER:
        ATTACKS[name].lay(place, name)
    run = {"root": root, "release": nbgrader(root, "generate_assignment", course.ASSIGNMENT, "--force"),
           "autograde": nbgrader(root, "autograde", course.ASSIGNMENT, "--force"),
           "feedback": nbgrader(root, "generate_feedback", course.ASSIGNMENT, "--force")}
    run["scores"] = submission_scores(root)
    run["glob"] = nbgrader(root, "autograde", course.ASSIGNMENT, "--student", "[a-z]*", "--force")
    run["scores_after_glob"] = submission_scores(root)
    return run


def submission_scores(root: Path) -> dict:
    with Gradebook(course.gradebook_url(root)) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(course.ASSIGNMENT)}


def budget_run(base: Path, release_nb) -> dict:
    """A hand-in that sleeps past the job's wall budget, between two honest ones."""
    root = copy_course(base / "course", keep_students=["correct"])
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(f"\nc.HandInJob.wall_budget = {BUDGET}\nc.Execute.timeout = 60\n"
                     "c.GradingExecute.total_timeout = 120\n")
    stuck = build(release_nb, Submission(CORRECT, change=add_cell("import time\ntime.sleep(50)", after="e1_output")))
    notebooks.write(stuck, course.submitted_notebook(root, "stuck"))
    notebooks.write(build(release_nb, Submission(CORRECT)), course.submitted_notebook(root, "zz_after"))
    temporary = base / "tmp"  # the grader's temporary folder: a killed job must leave nothing in it
    temporary.mkdir()
    result = run_grade(root, env={**os.environ, "TMPDIR": str(temporary)})
    return {"root": root, "result": result, "rows": read_rows(root), "left_behind": sorted(os.listdir(temporary))}


def memory_run(base: Path) -> dict:
    """Workers whose memory ceiling is too low to even start."""
    root = copy_course(base / "course", keep_students=["correct", "blank"])
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write("\nc.HandInJob.memory_limit = 64 * 1024**2\n")
    return {"root": root, "result": run_grade(root), "rows": read_rows(root)}


def read_rows(root: Path) -> dict:
    with open(root / "scores.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_does_nbgrader_itself_refuse_links_and_glob_ids(hostile_run):
    """`nbgrader autograde` and `generate_feedback`, run by hand on submitted/, refuse the same hand-ins."""
    run = hostile_run["nbgrader_commands"].result()
    assert run["release"].returncode == 0, run["release"].stderr[-2000:]
    assert run["autograde"].returncode != 0, "the refused hand-ins are reported as failures"
    assert run["scores"] == {"correct": 25}, run["autograde"].stderr[-3000:]
    assert "Refused" in run["autograde"].stderr and "is a link" in run["autograde"].stderr
    for name in REFUSED_BY_NBGRADER:
        assert not course.autograded_notebook(run["root"], name).exists()
    for folder in ("autograded", "feedback"):
        for path in (run["root"] / folder).rglob("*"):
            assert path.is_dir() or SECRET.encode() not in path.read_bytes(), path
    assert run["feedback"].returncode == 0, run["feedback"].stderr[-3000:]
    # a glob asked for by name is refused before it matches anyone
    assert run["glob"].returncode != 0 and "refusing student id" in run["glob"].stderr
    assert run["scores_after_glob"] == run["scores"]


def test_does_a_hand_in_past_its_budget_stop_alone(hostile_run):
    run = hostile_run["budget"].result()
    rows = run["rows"]
    assert (rows["stuck"]["status"], rows["stuck"]["total"]) == ("grading stopped", ""), run["result"].stderr[-2000:]
    assert f"ran past its {BUDGET} s budget" in rows["stuck"]["notes"]
    assert float(rows["zz_after"]["total"]) == float(rows["correct"]["total"]) == 25
    assert set(submission_scores(run["root"])) == {"correct", "zz_after"}, "nothing of the stopped job is left"
    assert run["left_behind"] == [], "the stopped job's temporary folders (its kernel's too) are removed"


def test_does_a_worker_over_its_memory_ceiling_fail_only_its_student(hostile_run):
    run = hostile_run["memory"].result()
    assert set(run["rows"]) == {"correct", "blank"}
    for row in run["rows"].values():
        assert (row["status"], row["total"]) == ("grading failed", "")
        assert "memory ceiling" in row["notes"]
    assert (run["root"] / "grades.csv").is_file() and "2 hand-ins: 2 grading failed" in run["result"].stdout
