"""nbgrader's exchange end to end: the instructor on the command line, the student in the browser's Assignment List.

The exchange is set up by `make exchange`'s command, pointed at a temporary
folder and a temporary Jupyter configuration folder that both sides share,
as they share /etc/jupyter on a JupyterHub. The instructor releases the
assignment, the student fetches and submits it from *Nbgrader → Assignment
List* in JupyterLab, the instructor collects and grades it with `make
grade`'s command and releases the feedback, and the student fetches that.
Without an exchange, the same list says so in one sentence.
"""

import contextlib
import getpass
import os
import re
import secrets
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from coursetools import course, demo_students, exchange, notebooks

from browser import Screenshots, chromium, jupyter, menu, page_in
from conftest import ROOT, copy_course, run_grade

SECONDS = 120
# The shared configuration stands in for a JupyterHub's /etc/jupyter. Inside a virtual environment
# Jupyter reads the environment's own configuration (`make` writes one) before the user's, so
# the tests ask for the user's first, as it comes first outside an environment.
SHARED_CONFIG = {"JUPYTER_PREFER_ENV_PATH": "0"}


def set_up_exchange(home, root, *options):
    """`make exchange`'s command, writing the configuration a JupyterHub would keep in /etc/jupyter."""
    return subprocess.run([sys.executable, "-m", "coursetools.exchange", "--root", str(root),
                           "--config-file", str(home / "config" / "nbgrader_config.py"), *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)


def instructor(root, home, command, *options):
    """An nbgrader command in the course root, with the shared Jupyter configuration."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", command, course.ASSIGNMENT, *options], cwd=root,
                            env={**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), **SHARED_CONFIG},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def open_assignment_list(page, server):
    page.goto(server.url("lab"))
    menu(page, "Nbgrader", "Assignment List")
    page.locator("#course_list_default").wait_for(timeout=60_000)


def listed(page, section: str, button: str):
    """The button of the assignment's entry in one of the list's sections (released, fetched, submitted)."""
    entry = page.locator(f"#{section}_assignments_list .list_item", has_text=course.ASSIGNMENT)
    found = entry.locator("button", has_text=re.compile(f"^{button}$"))
    found.wait_for(timeout=SECONDS * 1000)
    return found


def test_without_an_exchange_the_assignment_list_says_so_once(tmp_path):
    home, workspace = tmp_path / "home", tmp_path / "work"
    workspace.mkdir()
    set_up_exchange(home, tmp_path / "no-exchange-here", "--config-only")
    shots = Screenshots("assignment-list-without-exchange")
    with jupyter(workspace, home, environment=SHARED_CONFIG) as server, chromium() as browser, \
            page_in(browser, (server.base,)) as (page, offline):
        open_assignment_list(page, server)
        page.locator("#course_list_default", has_text=exchange.NO_EXCHANGE).wait_for(timeout=SECONDS * 1000)
        page.locator("#released_assignments_list_placeholder").wait_for(timeout=SECONDS * 1000)
        text = page.locator("#assignments").inner_text()
        shots.take(page, "one-plain-message")
        assert offline.refused == []
    assert text.count(exchange.NO_EXCHANGE) == 1
    assert "rror" not in text, text


def test_is_the_exchange_folder_made_as_nbgrader_needs_it(tmp_path):
    made = set_up_exchange(tmp_path / "home", tmp_path / "exchange")
    assert stat.S_IMODE(os.lstat(tmp_path / "exchange").st_mode) == exchange.ROOT_MODE
    assert str(tmp_path / "exchange") in (tmp_path / "home" / "config" / "nbgrader_config.py").read_text()
    assert "ready" in made.stdout
    (tmp_path / "link").symlink_to(tmp_path / "exchange")
    refused = subprocess.run([sys.executable, "-m", "coursetools.exchange", "--root", str(tmp_path / "link"),
                              "--config-file", str(tmp_path / "other.py")], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "not a folder" in refused.stderr
    assert not (tmp_path / "other.py").exists()


def test_does_the_environment_come_with_the_exchange_list(tmp_path):
    """`make` writes this environment's nbgrader configuration, so the Assignment List never shows three errors."""
    text = exchange.ENVIRONMENT_CONFIG.read_text(encoding="utf-8")
    assert "coursetools.exchange.OptionalExchangeList" in text and "c.Exchange.root" in text


@pytest.fixture(scope="module")
def exchange_walk(tmp_path_factory, release_nb):
    base = tmp_path_factory.mktemp("exchange")
    home, workspace = base / "home", base / "work"
    workspace.mkdir()
    root = copy_course(base / "course", keep_students=[])
    set_up_exchange(home, base / "exchange")
    student = getpass.getuser()  # the exchange knows a student by their login
    seen, shots = {"student": student, "root": root, "workspace": workspace}, Screenshots("exchange")
    instructor(root, home, "release_assignment")
    released = base / "exchange" / course.load_nbgrader_config(root).CourseDirectory.course_id / "outbound"
    assert (released / course.ASSIGNMENT).is_dir(), "released into another exchange than the configured one"
    with jupyter(workspace, home, environment=SHARED_CONFIG) as server, chromium() as browser, \
            page_in(browser, (server.base,)) as (page, offline):
        open_assignment_list(page, server)
        fetch = listed(page, "released", "Fetch")
        shots.take(page, "released")
        fetch.click()
        submit = listed(page, "fetched", "Submit")
        shots.take(page, "fetched")
        fetched = workspace / course.ASSIGNMENT / f"{course.NOTEBOOK}.ipynb"
        seen["fetched_is_the_release"] = notebooks.read(fetched).cells == release_nb.cells
        # the student's work, as if typed: the browser tests of the notebook itself type it for real
        notebooks.write(demo_students.hand_in(notebooks.read(fetched), demo_students.CORRECT), fetched)
        submit.click()
        page.locator("#submitted_assignments_list .list_item", has_text=course.ASSIGNMENT).wait_for(
            timeout=SECONDS * 1000)
        shots.take(page, "submitted")

        seen["collected"] = instructor(root, home, "collect")
        seen["grading"] = run_grade(root)
        instructor(root, home, "release_feedback")

        page.locator("#refresh_assignments_list").click()
        listed(page, "submitted", "Fetch Feedback").click()
        page.locator("#submitted_assignments_list .nested_list_item", has_text="view feedback").wait_for(
            timeout=SECONDS * 1000)
        shots.take(page, "feedback-fetched")
        seen["refused"] = list(offline.refused)
    return seen


def test_does_collect_put_the_submission_in_submitted(exchange_walk):
    assert exchange_walk["fetched_is_the_release"]
    assert course.submitted_notebook(exchange_walk["root"], exchange_walk["student"]).is_file()


def test_does_make_grade_grade_the_collected_hand_in(exchange_walk):
    assert exchange_walk["grading"].returncode == 0, exchange_walk["grading"].stdout[-2000:]
    with Gradebook(course.gradebook_url(exchange_walk["root"])) as gradebook:
        assert gradebook.find_submission(course.ASSIGNMENT, exchange_walk["student"]).score == 25


def test_does_the_student_fetch_the_feedback(exchange_walk):
    pages = list((exchange_walk["workspace"] / course.ASSIGNMENT / "feedback").glob(f"*/{course.NOTEBOOK}.html"))
    assert len(pages) == 1
    assert "Score: 25.0 / 25.0" in pages[0].read_text(encoding="utf-8")
    assert exchange_walk["refused"] == []


def submission_in_inbound(exchange_root, course_id, student, when, notebook_bytes) -> Path:
    """A submission folder as a student's Submit leaves it in the exchange's inbound folder."""
    folder = exchange_root / course_id / "inbound" / f"{student}+{course.ASSIGNMENT}+{when} UTC+{secrets.token_hex(4)}"
    folder.mkdir()
    (folder / f"{course.NOTEBOOK}.ipynb").write_bytes(notebook_bytes)
    (folder / "timestamp.txt").write_text(f"{when} UTC")
    return folder


@pytest.fixture
def hostile_inbound(tmp_path):
    """The inbound folder after a release, with one honest submission and several that must not be collected."""
    home, root = tmp_path / "home", copy_course(tmp_path / "course", keep_students=[])
    set_up_exchange(home, tmp_path / "exchange")
    instructor(root, home, "release_assignment")
    course_id = course.load_nbgrader_config(root).CourseDirectory.course_id
    release = course.release_notebook(root).read_bytes()
    secret = tmp_path / "private.key"
    secret.write_text("PRIVATE KEY OF THE GRADER")
    me = getpass.getuser()
    honest = submission_in_inbound(tmp_path / "exchange", course_id, me, "2026-11-20 10:00:00.000000", release)
    linked = submission_in_inbound(tmp_path / "exchange", course_id, "linker", "2026-11-20 10:00:00.000000", release)
    (linked / "notes.txt").symlink_to(secret)
    piped = submission_in_inbound(tmp_path / "exchange", course_id, "piper", "2026-11-20 10:00:00.000000", release)
    os.mkfifo(piped / "data.csv")
    # another login's submission under the honest student's name, and later than theirs
    submission_in_inbound(tmp_path / "exchange", course_id, "someone_else", "2026-11-21 10:00:00.000000", release)
    if os.geteuid() == 0:  # only root can give a folder to another user, as another login's Submit does
        impostor = submission_in_inbound(tmp_path / "exchange", course_id, me, "2026-11-22 10:00:00.000000", b"{}")
        os.chown(impostor, 4242, 4242)  # owned by a user who is not `me`
    whole_link = tmp_path / "exchange" / course_id / "inbound" / f"dotdot+{course.ASSIGNMENT}+2026-11-20 10:00:00.000000 UTC+ab"
    whole_link.symlink_to(tmp_path)
    return {"root": root, "home": home, "me": me, "secret": secret}


def test_does_a_refused_latest_submission_leave_the_earlier_one(tmp_path):
    """A later submission that cannot be collected never costs the student the one before it."""
    home, root = tmp_path / "home", copy_course(tmp_path / "course", keep_students=[])
    set_up_exchange(home, tmp_path / "exchange")
    instructor(root, home, "release_assignment")
    course_id = course.load_nbgrader_config(root).CourseDirectory.course_id
    release, me = course.release_notebook(root).read_bytes(), getpass.getuser()
    submission_in_inbound(tmp_path / "exchange", course_id, me, "2026-11-20 10:00:00.000000", release)
    later = submission_in_inbound(tmp_path / "exchange", course_id, me, "2026-11-21 10:00:00.000000", b"{}")
    os.mkfifo(later / "data.csv")
    collected = instructor(root, home, "collect")
    assert course.submitted_notebook(root, me).read_bytes() == release
    assert "not a plain file" in collected.stdout + collected.stderr
    # collected again with --update, the earlier one collected before stays in submitted/
    instructor(root, home, "collect", "--update")
    assert course.submitted_notebook(root, me).read_bytes() == release


def no_secret_in(root, secret) -> None:
    for path in (root / "submitted").rglob("*"):
        assert not path.is_symlink(), path
        assert not path.is_file() or secret.read_bytes() not in path.read_bytes(), path


def test_does_collect_take_each_student_submission_from_its_owner_only(hostile_inbound):
    root, me = hostile_inbound["root"], hostile_inbound["me"]
    collected = instructor(root, hostile_inbound["home"], "collect")
    log = collected.stdout + collected.stderr
    assert (course.submitted_notebook(root, me).read_bytes()
            == course.release_notebook(root).read_bytes()), "the honest submission, not the later impostor's"
    assert sorted(path.name for path in (root / "submitted").iterdir()) == [me]
    for student in ("linker", "piper", "someone_else"):
        assert f"Not collecting {student}+" in log and "belongs to" in log
    assert "Not collecting dotdot+" in log and "not a folder" in log
    no_secret_in(root, hostile_inbound["secret"])


def test_does_collect_copy_plain_files_only(hostile_inbound):
    """With nbgrader's owner check off, as some hubs run it, links and pipes are still refused, and the rest collected."""
    root = hostile_inbound["root"]
    collected = instructor(root, hostile_inbound["home"], "collect", "--ExchangeCollect.check_owner=False")
    log = collected.stdout + collected.stderr
    for student in ("linker", "piper", "dotdot"):
        assert not (root / "submitted" / student).exists(), student
        assert f"Not collecting {student}+" in log
    assert log.count("not a plain file") == 2
    assert course.submitted_notebook(root, "someone_else").is_file()  # the batch goes on past the refused ones
    no_secret_in(root, hostile_inbound["secret"])


def inbound_of(tmp_path, root) -> Path:
    return tmp_path / "exchange" / course.load_nbgrader_config(root).CourseDirectory.course_id / "inbound"


def test_does_a_submission_named_without_a_time_stop_no_one(hostile_inbound, tmp_path):
    """A student writes the inbound folder's names: one whose time is not a time is refused, the rest collected."""
    root = hostile_inbound["root"]
    (inbound_of(tmp_path, root) / f"{hostile_inbound['me']}+{course.ASSIGNMENT}+not a time").mkdir()
    collected = instructor(root, hostile_inbound["home"], "collect")
    assert "Not collecting" in collected.stdout + collected.stderr
    assert course.submitted_notebook(root, hostile_inbound["me"]).is_file()


def folders_in_a_row(top: Path, name: str, depth: int) -> None:
    """`depth` nested folders of that name, made by descriptor as a student can, however long the path."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)


def test_does_a_path_too_long_to_copy_stop_no_one(hostile_inbound, tmp_path):
    """Folder names of 250 characters, 20 deep: the copy's path would pass the system's limit."""
    root = hostile_inbound["root"]
    deep = submission_in_inbound(tmp_path / "exchange", inbound_of(tmp_path, root).parent.name, "deep",
                                 "2026-11-20 10:00:00.000000", course.release_notebook(root).read_bytes())
    folders_in_a_row(deep, "d" * 250, 20)
    collected = instructor(root, hostile_inbound["home"], "collect", "--ExchangeCollect.check_owner=False")
    assert "Not collecting deep+" in collected.stdout + collected.stderr
    assert not (root / "submitted" / "deep").exists()
    assert course.submitted_notebook(root, "someone_else").is_file()


def refusal_of(src: Path, dest: Path) -> str:
    """Why `copy_plain_files` refuses `src`; any other exception is the bug."""
    with pytest.raises(exchange.Refused) as refused:
        exchange.copy_plain_files(src, dest, [], [], 100_000, 1_000_000)
    return str(refused.value)


def test_does_a_deep_submission_get_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    folders_in_a_row(src, "a", 1_100)
    try:
        assert refusal_of(src, tmp_path / "dest")
    finally:  # shutil.rmtree recurses, as the copy did
        subprocess.run(["rm", "-rf", str(src), str(tmp_path / "dest")], check=True)


def test_does_a_file_removed_while_collecting_get_refused(tmp_path, monkeypatch):
    """The student deletes a file after collect has listed the folder and before it looks at the file."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    (src / "b.txt").write_text("b")
    listed = os.scandir

    def list_then_delete(fd):
        entries = list(listed(fd))
        (src / "b.txt").unlink(missing_ok=True)
        return contextlib.nullcontext(entries)
    monkeypatch.setattr(os, "scandir", list_then_delete)
    assert refusal_of(src, tmp_path / "dest")


def test_does_a_folder_without_search_permission_get_refused():
    """An instructor who is not root collects a folder the student made readable but not searchable (mode 744)."""
    base = Path(tempfile.mkdtemp(prefix="exchange-search-"))  # pytest's own folders are its user's alone
    try:
        src, out = base / "src", base / "out"
        (src / "inner").mkdir(parents=True)
        (src / "inner" / "f.txt").write_text("x")
        out.mkdir()
        program = ("import sys; from coursetools import exchange\n"
                   "try:\n    exchange.copy_plain_files(sys.argv[1], sys.argv[2], [], [], 100000, 1000000)\n"
                   "except exchange.Refused:\n    sys.exit(3)\n")
        command = [sys.executable, "-c", program, str(src), str(out / "dest")]
        if os.geteuid() == 0:  # as another user, who is not root: root searches any folder
            os.chmod(base, 0o755)
            os.chmod(out, 0o777)
            os.chown(src, 4242, 4242)
            os.chown(src / "inner", 4242, 4242)
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        os.chmod(src / "inner", 0o744)
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 3, result.stderr[-1500:]
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=True)


def test_does_a_file_grown_while_collecting_stay_within_its_size(tmp_path, monkeypatch):
    """The student extends a file (a sparse one costs nothing) right after collect has looked at its size."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.bin").write_bytes(b"x" * 10)
    looked = os.fstat

    def look_then_grow(fd):
        info = looked(fd)
        if stat.S_ISREG(info.st_mode):
            os.truncate(src / "data.bin", 50 * 1024**2)
        return info
    monkeypatch.setattr(os, "fstat", look_then_grow)
    try:
        left_out = exchange.copy_plain_files(src, tmp_path / "dest", [], [], 100, 1000)
    except exchange.Refused:
        return
    copied = tmp_path / "dest" / "data.bin"
    assert not copied.exists() or copied.stat().st_size <= 100 * 1000, (left_out, copied.stat().st_size)


def test_is_a_hard_link_to_someone_elses_file_refused(tmp_path):
    """Where links to files one cannot read are allowed (fs.protected_hardlinks off), a student's submission
    can hold a second name of a file only the collecting user may read; collect must not copy it."""
    if os.geteuid() != 0:
        pytest.skip("making a link to another user's file, and a folder of another user, needs root")
    private = tmp_path / "gradebook-secret.json"
    private.write_text("SECRET INPUTS OF THE COURSE")
    os.chmod(private, 0o600)  # root's alone, as the course's key file
    src = tmp_path / "src"
    src.mkdir()
    (src / "notes.txt").write_text("mine")
    os.link(private, src / "data.json")
    for path in (src, src / "notes.txt"):
        os.chown(path, 4242, 4242)  # the student's
    try:
        exchange.copy_plain_files(src, tmp_path / "dest", [], [], 100_000, 1_000_000)
    except exchange.Refused:
        return
    assert not (tmp_path / "dest" / "data.json").exists(), "another user's file was copied into submitted/"


def test_is_a_submission_of_countless_empty_files_refused(tmp_path):
    """Empty files weigh nothing against max_dir_size, yet each is a file written into submitted/; grading
    refuses a hand-in of more than handin.MAX_FILES files anyway."""
    from coursetools.engine import handin
    src = tmp_path / "src"
    src.mkdir()
    for i in range(20 * handin.MAX_FILES):
        (src / f"{i}.txt").touch()
    assert refusal_of(src, tmp_path / "dest")


def test_does_a_refused_newer_submission_keep_the_older_one(hostile_inbound, tmp_path):
    """An honest student submits again with a link in the folder (a data set linked from their home): the
    newer submission is refused, and the one already collected, or the older one collect could take, stays."""
    root, me, home = hostile_inbound["root"], hostile_inbound["me"], hostile_inbound["home"]
    instructor(root, home, "collect")
    assert course.submitted_notebook(root, me).is_file()
    course_id = inbound_of(tmp_path, root).parent.name
    newer = submission_in_inbound(tmp_path / "exchange", course_id, me, "2026-11-23 10:00:00.000000",
                                  course.release_notebook(root).read_bytes())
    (newer / "data.csv").symlink_to("/etc/hostname")
    updated = instructor(root, home, "collect", "--update")
    assert "Not collecting" in updated.stdout + updated.stderr
    assert course.submitted_notebook(root, me).is_file(), "collect --update removed the collected submission"
    subprocess.run(["rm", "-rf", str(root / "submitted" / me)], check=True)
    again = instructor(root, home, "collect")
    assert course.submitted_notebook(root, me).is_file(), (again.stdout + again.stderr)[-2000:]
