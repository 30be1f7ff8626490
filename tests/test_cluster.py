"""Grading on a cluster: a real PostgreSQL gradebook and a local Dask cluster of two worker processes.

The same hand-ins (the demo students and a sample of the corpus) are graded
twice with `make grade`'s command: on one machine with the SQLite gradebook,
and on the cluster with the gradebook on PostgreSQL, one of the two workers
killed in the middle of the batch. The scores must be exactly the same.
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine, text

from coursetools import course

from conftest import background_result, copy_course, run_grade
import corpus
from postgres import temporary_postgres

# Every 20th corpus case: honest styles, cheats and tampering alike, the same ones every run
SAMPLE = sorted(corpus.CORPUS)[::20]
DASK = Path(sys.executable).parent / "dask"


def course_with_sample(folder: Path) -> Path:
    return corpus.course_with_sample(folder, SAMPLE)


def one_machine_run(folder: Path) -> dict:
    root = course_with_sample(folder)
    return {"root": root, "result": run_grade(root)}


BACKGROUND_RUNS = {"one_machine_sample": one_machine_run}


def scores_rows(root: Path) -> dict:
    with open(root / "scores.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def scheduler_address(scheduler_file: Path, scheduler: subprocess.Popen, log: Path, timeout: float = 60) -> str:
    """The address the scheduler writes once it listens (the file appears before its content does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (FileNotFoundError, ValueError, KeyError):
            if scheduler.poll() is not None:
                raise RuntimeError(f"the Dask scheduler exited ({scheduler.returncode}); its log is {log}") from None
            time.sleep(0.1)
    raise RuntimeError(f"the Dask scheduler wrote no address within {timeout:.0f} s; its log is {log}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """PostgreSQL, a Dask scheduler and two single-threaded workers, all on 127.0.0.1."""
    base = tmp_path_factory.mktemp("cluster")
    logs = base / "logs"
    logs.mkdir()
    with temporary_postgres(base) as database:
        scheduler_file = base / "scheduler.json"
        processes = [subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            stdout=subprocess.DEVNULL, stderr=open(logs / "scheduler.log", "wb"), cwd=base)]
        try:
            address = scheduler_address(scheduler_file, processes[0], logs / "scheduler.log")
            # the workers start outside the course, with nothing of it on their path, each with a
            # temporary folder of its own, to see what its grading jobs leave there
            temporary = [base / f"tmp-{number}" for number in (1, 2)]
            for folder in temporary:
                folder.mkdir()
            workers = [subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                 "--no-dashboard", "--name", f"grader-{number}"],
                stdout=subprocess.DEVNULL, stderr=open(logs / f"worker-{number}.log", "wb"), cwd=base,
                env={**os.environ, "TMPDIR": str(temporary[number - 1])})
                for number in (1, 2)]
            processes += workers
            yield {"scheduler": address, "db": database.url, "workers": workers, "logs": logs,
                   "temporary": temporary}
        finally:
            for process in reversed(processes):
                stop(process)


def dask_client(address: str):
    from distributed import Client
    return Client(address, timeout="10s", set_as_default=False)


def wait_for_workers(client, count: int) -> dict:
    client.wait_for_workers(count, timeout=60)
    return {pid: worker for worker, pid in client.run(os.getpid).items()}


@pytest.fixture(scope="module")
def cluster_run(cluster, tmp_path_factory):
    """The sample graded on the cluster; one worker is killed while it grades a hand-in."""
    root = course_with_sample(tmp_path_factory.mktemp("cluster_course"))
    students = course.submitted_students(root)
    client = dask_client(cluster["scheduler"])
    try:
        by_pid = wait_for_workers(client, 2)
        victim = cluster["workers"][0]
        grading = subprocess.Popen(
            [sys.executable, "-m", "coursetools.grade", "--root", str(root),
             "--scheduler", cluster["scheduler"], "--db", cluster["db"]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=course.REPOSITORY_ROOT)
        engine = create_engine(cluster["db"])
        lost, orphans = [], []
        deadline = time.monotonic() + 300
        while not lost and time.monotonic() < deadline and grading.poll() is None:
            time.sleep(0.2)
            with engine.connect() as connection:  # the middle of the batch: some hand-ins are done
                done = connection.execute(text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = 'course_grading_records'")).scalar() \
                    and connection.execute(text("SELECT count(*) FROM course_grading_records")).scalar()
            busy = client.processing().get(by_pid[victim.pid], ())
            if done and busy:
                orphans = psutil.Process(victim.pid).children(recursive=True)
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                lost = [students[int(key.rsplit("-", 1)[1])] for key in busy]
        stdout, stderr = grading.communicate(timeout=600)
        engine.dispose()
    finally:
        client.close()
    return {"root": root, "result": subprocess.CompletedProcess(grading.args, grading.returncode, stdout, stderr),
            "lost": lost, "orphans": orphans}


def test_does_the_cluster_give_exactly_the_one_machine_scores(cluster_run):
    reference = background_result("one_machine_sample")
    assert reference["result"].returncode == cluster_run["result"].returncode, cluster_run["result"].stderr[-3000:]
    expected, got = scores_rows(reference["root"]), scores_rows(cluster_run["root"])
    assert set(got) == set(course.submitted_students(cluster_run["root"]))
    assert got == expected


def test_does_a_killed_worker_lose_no_hand_in(cluster_run, cluster):
    assert cluster_run["lost"], "the worker was never caught in the middle of a hand-in"
    rows = scores_rows(cluster_run["root"])
    reference = scores_rows(background_result("one_machine_sample")["root"])
    for student in cluster_run["lost"]:  # finished on the other worker, with the same result
        assert rows[student] == reference[student]
    time.sleep(1)
    assert not [p.pid for p in cluster_run["orphans"] if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], \
        "the killed worker's grading job or kernel outlived it"
    left = None
    for _ in range(50):  # the job removes its temporary folder as it ends
        left = sorted(name for name in os.listdir(cluster["temporary"][0]) if name.startswith("course-"))
        if not left:
            break
        time.sleep(0.1)
    assert left == [], "the killed worker's grading job left its temporary folder behind"


def test_is_each_hand_in_graded_once_into_postgres(cluster_run, cluster):
    engine = create_engine(cluster["db"])
    try:
        with engine.connect() as connection:
            submissions = connection.execute(text(
                "SELECT student.id, count(*) FROM submitted_assignment JOIN student "
                "ON submitted_assignment.student_id = student.id GROUP BY student.id")).all()
            recorded = {row[0] for row in connection.execute(text("SELECT student_id FROM course_grading_records"))}
    finally:
        engine.dispose()
    graded = {name for name, row in scores_rows(cluster_run["root"]).items() if row["total"] != ""}
    assert {student: count for student, count in submissions} == {student: 1 for student in graded}
    assert graded <= recorded | {name for name, row in scores_rows(cluster_run["root"]).items()
                                 if row["status"] not in ("graded", "renamed", "tampered and restored")}
    assert not (cluster_run["root"] / "gradebook.db").exists(), "the cluster run wrote a local gradebook"


def grade_small(tmp_path, *flags) -> subprocess.CompletedProcess:
    root = copy_course(tmp_path / "course", keep_students=["correct"])
    started = time.monotonic()
    result = run_grade(root, *flags)
    result.seconds = time.monotonic() - started
    return result


def test_does_an_unreachable_gradebook_stop_grading_at_once(tmp_path, cluster):
    url = f"postgresql://grader@127.0.0.1:{free_port()}/gradebook"
    result = grade_small(tmp_path, "--scheduler", cluster["scheduler"], "--db", url)
    assert result.returncode == 1
    assert f"cannot reach the gradebook database at {url}" in result.stderr
    assert "nothing was graded" in result.stderr
    assert not (tmp_path / "course" / "feedback").exists()


def test_does_an_unreachable_scheduler_stop_grading_at_once(tmp_path, cluster):
    address = f"tcp://127.0.0.1:{free_port()}"
    result = grade_small(tmp_path, "--scheduler", address, "--db", cluster["db"])
    assert result.returncode == 1
    assert f"cannot reach the Dask scheduler at {address}" in result.stderr
    assert "dask scheduler" in result.stderr
    assert not (tmp_path / "course" / "feedback").exists()


def test_does_a_cluster_refuse_an_sqlite_gradebook(tmp_path, cluster):
    result = grade_small(tmp_path, "--scheduler", cluster["scheduler"])
    assert result.returncode == 1
    assert "a cluster needs a gradebook every machine can write to" in result.stderr
