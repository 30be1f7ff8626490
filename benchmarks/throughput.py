"""Throughput and memory of `make grade`'s engine against stock nbgrader 0.9.6, on the same hand-ins.

Usage: .venv/bin/python benchmarks/throughput.py [--handins 100] [--memory-sizes 100,400] [--rounds 1] [--jobs N]

Two graders, each in fresh copies of the course, interleaved (each round
alternates which goes first, so machine noise hits both alike):

- stock: nbgrader 0.9.6 as it comes. The copy's nbgrader_config.py is a
  minimal one (course root, python3 kernel, nbgrader's default Execute),
  the copy holds no `coursetools`, and the release is generated with
  `nbgrader generate_assignment`. A grading run is `nbgrader autograde
  building_blocks --force` then `nbgrader generate_feedback building_blocks
  --force`.
- engine: `python -m coursetools.grade --jobs N --force`, every defence on
  (sandbox, recheck, worker budgets, feedback lock-down).

Each grader runs once untimed, which fills the gradebook, then is timed on a
second run that regrades everybody, as an instructor's rerun does; neither
timed run regenerates the release (the engine's gets `--no-release`). The
engine's `--timings` file of the timed run says where its seconds go. Then
the engine alone grades fresh copies with `--memory-sizes` hand-ins each
(the same mix repeated), as `make grade` grades a new course, while the
driver and its process tree are sampled every 0.1 s: the driver's peak RSS,
and the peak total RSS of the grading workers (`coursetools.handin_job`
processes and their children; kernels' sandboxes are left out, their size
being the student's code, and with them the recheck's rerun, which runs in
the kernel's sandbox; a rerun in a sandbox of its own is counted).

The hand-ins: the demo students from submitted/, then corpus cases from
tests/ (honest styles and hostile ones, two honest to one hostile, each list
in a fixed shuffled order so that a short run is a fair sample), repeated
under distinct ids (`corpus-<case>-<n>`, `<demo>-<n>`) until there are as
many as asked. They are written once and copied, so both graders get
byte-identical hand-ins.

Stock nbgrader runs student code unsandboxed, with this script's
permissions (root's, when run as root), so only hostile cases that are
harmless to the machine when run that way are included: cheats (typed-in
results, patched comparison functions and built-ins, shadowed asserts,
input and AST transformers, hooks that print the hidden tests, forged
read-backs, a patched `json` that garbles the kernel's messages), tampering
with check cells and their marks, broken notebooks (invalid JSON nesting,
invalid UTF-8, bad nbgrader metadata, 20,000 cells, a kernel that exits),
scripts in feedback, and bounded output (at most a few MB) and loops
(seconds). Left out, whatever they show about the engine: everything that
writes, deletes or links outside its own folder (planted links, filling the
disk or the kernel's folder, `%store` into the IPython profile, writing into
every open file descriptor), that looks for the course's secrets or the
gradebook, that sleeps, loops without end or leaves the kernel unanswering,
that exhausts memory, that crashes the interpreter (a core dump lands
wherever the system puts it), that floods 100 MB of output or a 20 MB widget
message, and hand-ins that are links, pipes or odd student ids (ids here are
generated). As a second line, IPython's profile, matplotlib's cache and
Jupyter's runtime files go to the scratch folder, removed at the end.

The target: at least 3x stock throughput, and memory that does not grow with
the number of hand-ins.
"""

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from coursetools import course, notebooks  # noqa: E402  (needs the repository on sys.path)
from coursetools.engine.sandbox_kernel import CONNECTION_FILE  # noqa: E402
from coursetools.grade import default_jobs  # noqa: E402
from corpus import CHEATS, HONEST, LIMITS, TAMPERING, FAILURES  # noqa: E402  (the test corpus)
from corpus_tools import build  # noqa: E402
from hostile import ATTACKS, HONEST_EDGE, Place, add_cell, correct_with, notebook_path  # noqa: E402

TARGET_SPEEDUP = 3.0
# A peak is the worst moment of the run, and a longer run has more of them: the workers' peak
# went up 13% and 27% from 100 to 400 hand-ins in two runs on 2 cores, with no worker growing
# past its recycling. Memory kept per hand-in would grow as their number does, 4x from 100 to 400.
GROWTH_TOLERANCE = 1.5
SAMPLE_INTERVAL = 0.1
# Only a safety net against a hung run: generous next to any case below
TIMEOUT_BASE, TIMEOUT_PER_HANDIN = 600, 180
PHASES = ["intake", "kernel_start", "execution", "recheck", "feedback", "gradebook"]
MiB = 1024**2

# --- The hand-ins (see the docstring for why each hostile case is safe to run unsandboxed) ---

# About 2 MB of output: a fiftieth of the hostile corpus's flood
BOUNDED_OUTPUT = "for i in range(8_000):\n    print('x' * 250)"
# A second or two of pure Python before the answers
BOUNDED_LOOP = "total = 0\nfor i in range(20_000_000):\n    total += i\nprint(total)"
OWN_CASES = {
    "bounded_output": correct_with(add_cell(BOUNDED_OUTPUT, after="e1_output")),
    "bounded_loop": correct_with(add_cell(BOUNDED_LOOP, after="e1_output")),
}
# `%store` writes into the IPython profile, outside the hand-in
HONEST_LEFT_OUT = {"e1_store_after", "e4_store_restore_e2"}
HONEST_ODD = ["many_plots", "module_and_data_file", "split_answer_cell", "retyped_answer_cell",
              "git_history_and_mac_files", "byte_order_mark"]
# Every hostile case, grouped; groups take turns so a short run still meets each kind
HOSTILE_GROUPS = {
    "cheat": [
        "literal_output_e1", "literal_outputs_e2", "literal_outputs_e3", "literal_array_e4", "literal_via_helper",
        "patched_allclose", "patched_isclose", "patched_builtins_module", "patched_operator", "always_equal_float",
        "always_equal_array", "fake_len_iter_array", "shadowed_all", "shadowed_builtins", "shadowed_more_builtins",
        "input_transformer", "ast_transformer", "exception_handler", "event_callback", "partial_credit_from_a_hook",
        "rewritten_history", "environment_sniffer", "swapped_math_module", "detects_the_recheck_and_exits",
        "detects_the_missing_kernel", "reads_the_pinned_names_and_prints_a_result", "patches_the_read_back",
        "huge_read_back", "breaks_the_kernel_protocol", "types_in_the_old_answer_key",
        "echo_cells_hook", "echo_cells_without_answers", "echo_cells_disguised", "print_in",
    ],
    "tampering": sorted(TAMPERING),
    "broken": ["deeply_nested_json", "twenty_thousand_cells", "nbgrader_metadata_one", "invalid_utf8_byte",
               "missing_attachment", "kernel_exits_in_e3"],
    "output and loops": ["quadratic_html", "scripts_in_feedback", "bounded_output", "bounded_loop"],
}


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # demo, honest or hostile
    lay: object  # function(place, student id): puts the hand-in under submitted/<id>


def corpus_lay(submission):
    def lay(place: Place, student: str) -> None:
        notebooks.write(build(place.release, submission), notebook_path(place, student))
    return lay


def demo_lay(name):
    def lay(place: Place, student: str) -> None:
        shutil.copytree(ROOT / "submitted" / name, place.root / "submitted" / student)
    return lay


def corpus_case(name: str, kind: str) -> Case:
    submissions = {**CHEATS, **HONEST, **LIMITS, **TAMPERING, **FAILURES}
    if name in submissions:
        return Case(name, kind, corpus_lay(submissions[name]))
    laid = OWN_CASES.get(name) or getattr(ATTACKS.get(name) or HONEST_EDGE.get(name), "lay", None)
    if laid is None:
        raise KeyError(f"no corpus case named {name!r}")
    return Case(name, kind, laid)


def case_cycle() -> tuple[list[Case], list[Case], list[Case]]:
    """The demo students, and the honest and hostile cases, each in a fixed order."""
    demo = [Case(name, "demo", demo_lay(name)) for name in course.submitted_students(ROOT)]
    honest_names = sorted(set(HONEST) - HONEST_LEFT_OUT) + sorted(LIMITS) + HONEST_ODD
    # a fixed shuffle: a short run is a sample of every exercise's styles, not the first one's
    random.Random(0).shuffle(honest_names)
    groups = [list(names) for names in HOSTILE_GROUPS.values()]
    for names in groups:
        random.Random(0).shuffle(names)
    hostile_names = [group[i] for i in range(max(map(len, groups))) for group in groups if i < len(group)]
    return (demo, [corpus_case(n, "honest") for n in honest_names], [corpus_case(n, "hostile") for n in hostile_names])


def mix(count: int) -> list[Case]:
    """The first `count` hand-ins: every demo student, then two honest cases to one hostile, cycling."""
    demo, honest, hostile = case_cycle()
    cases = demo[:count]
    honest_at = hostile_at = 0
    while len(cases) < count:
        if (len(cases) - len(demo)) % 3 == 2:
            cases.append(hostile[hostile_at % len(hostile)])
            hostile_at += 1
        else:
            cases.append(honest[honest_at % len(honest)])
            honest_at += 1
    return cases


def with_ids(cases: list[Case]) -> list[tuple[str, Case]]:
    """A distinct id per hand-in: a demo student's own name the first time, the case and a count after."""
    seen: dict[str, int] = {}
    students = []
    for case in cases:
        seen[case.name] = seen.get(case.name, 0) + 1
        if case.kind == "demo":
            student = case.name if seen[case.name] == 1 else f"{case.name}-{seen[case.name]}"
        else:
            student = f"corpus-{case.name}-{seen[case.name]}"
        students.append((student, case))
    return students


class Failed(RuntimeError):
    """A grading run or its set-up went wrong: the benchmark stops and says why."""


def digest_tree(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode("utf-8", "surrogateescape"))
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def lay_handins(stage: Path, students: list[tuple[str, Case]]) -> str:
    """Write every hand-in once under stage/submitted/; returns its digest, to check each copy against."""
    release = notebooks.read(course.release_notebook(ROOT))
    place = Place(stage, None, None, None, release)
    (stage / "submitted").mkdir(parents=True)
    for student, case in students:
        case.lay(place, student)
    return digest_tree(stage / "submitted")


def course_with(destination: Path, stage: Path, digest: str) -> Path:
    root = course.copy_course(destination, keep_students=[])
    shutil.copytree(stage / "submitted", root / "submitted", dirs_exist_ok=True, symlinks=True)
    if digest_tree(root / "submitted") != digest:
        raise Failed(f"the hand-ins in {root} differ from the ones laid down")
    return root


# --- Running the graders ---

def kill_tree(process: psutil.Process) -> None:
    """Kill a process started here and everything it started (kernels run in sessions of their own)."""
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


class PeakMemory:
    """Peak RSS of a grading driver, and of its grading workers without their kernels, sampled in a thread."""

    def __init__(self, pid: int):
        self.pid, self.driver, self.workers, self.one_worker = pid, 0, 0, 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.sample()
            except psutil.NoSuchProcess:
                pass  # the driver ended between two samples
            self.stopped.wait(SAMPLE_INTERVAL)

    def sample(self) -> None:
        driver = psutil.Process(self.pid)
        self.driver = max(self.driver, driver.memory_info().rss)
        # the pool starts its workers itself; a deeper process with a worker's command line is one
        # forked and not yet replaced by what it runs, and is counted under its parent below
        workers = [p for p in driver.children() if "coursetools.handin_job" in command_line(p)]
        sizes = [rss_without_kernels(worker) for worker in workers]
        self.workers = max(self.workers, sum(sizes))
        # the largest single worker tells growth inside a worker from more workers peaking at once
        self.one_worker = max(self.one_worker, *sizes, 0)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def command_line(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []


def is_kernel(process: psutil.Process) -> bool:
    """A kernel: jupyter_client's launch of the course's sandbox kernel, the bwrap it becomes, or
    what runs in that sandbox (the kernel, and the process kept there for the recheck's rerun)."""
    argv = command_line(process)
    return ("ipykernel_launcher" in argv or CONNECTION_FILE in argv
            or any(arg.endswith("sandbox_kernel.py") for arg in argv))


def rss_without_kernels(top: psutil.Process) -> int:
    """RSS of a worker and its children, kernels and their sandboxes left out."""
    total, pending = 0, [(top, None)]
    while pending:
        process, parent_argv = pending.pop()
        try:
            argv = command_line(process)
            if process is not top and is_kernel(process):
                continue  # the student's code, not the grader
            # between fork and exec a child shares its parent's pages and shows them as its own RSS
            if argv != parent_argv:
                total += process.memory_info().rss
            pending += [(child, argv) for child in process.children()]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return total


def run(command: list[str], cwd: Path, env: dict, handins: int, allowed=(0,), memory=False):
    """Run one grading command; returns (seconds, peak memory or None). Exit codes outside `allowed` fail."""
    timeout = TIMEOUT_BASE + TIMEOUT_PER_HANDIN * handins
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a long log cannot stall the grader
        start = time.perf_counter()
        process = psutil.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
        peak = PeakMemory(process.pid) if memory else None
        try:
            returncode = process.wait(timeout=timeout)
        except psutil.TimeoutExpired:
            kill_tree(process)
            raise Failed(f"`{' '.join(map(str, command[:4]))} ...` ran past {timeout} s and was stopped") from None
        finally:
            if peak:
                peak.stop()
        seconds = time.perf_counter() - start
        if returncode not in allowed:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise Failed(f"`{' '.join(map(str, command))}` exited {returncode}:\n{tail}")
    return seconds, peak


def environment(scratch: Path) -> dict:
    """This environment's bin/ first on PATH; IPython, matplotlib and Jupyter write into scratch/."""
    course.environment_bin_on_path()
    env = dict(os.environ)
    for variable, folder in (("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "matplotlib"), ("JUPYTER_RUNTIME_DIR", "runtime")):
        (scratch / folder).mkdir(exist_ok=True)
        env[variable] = str(scratch / folder)
    return env


STOCK_CONFIG = """c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.Execute.kernel_name = "python3"
"""


def grade_stock(scratch: Path, stage: Path, digest: str, handins: int, env: dict) -> dict:
    root = course_with(scratch / "stock", stage, digest)
    shutil.rmtree(root / "coursetools")  # nothing of the engine left to load
    shutil.rmtree(root / "release")
    (root / "nbgrader_config.py").write_text(STOCK_CONFIG.format(root=str(root)))
    nbgrader = shutil.which("nbgrader", path=env["PATH"])
    if nbgrader is None or Path(nbgrader).parent != Path(sys.executable).parent:
        raise Failed(f"no nbgrader next to {sys.executable}")
    try:
        run([nbgrader, "generate_assignment", course.ASSIGNMENT, "--force"], root, env, handins)
        # nbgrader exits 1 when some hand-in failed (broken ones do); the counts below say how many
        steps = {"autograde": [nbgrader, "autograde", course.ASSIGNMENT, "--force"],
                 "feedback": [nbgrader, "generate_feedback", course.ASSIGNMENT, "--force"]}
        for command in steps.values():  # untimed: fills the gradebook
            run(command, root, env, handins, allowed=(0, 1))
        seconds = {step: run(command, root, env, handins, allowed=(0, 1))[0] for step, command in steps.items()}
        graded = len(list((root / "autograded").glob(f"*/{course.ASSIGNMENT}/*.ipynb")))
        feedback = len(list((root / "feedback").glob(f"*/{course.ASSIGNMENT}/*.html")))
        if not graded or not feedback:
            raise Failed(f"stock nbgrader graded {graded} and wrote feedback for {feedback} of {handins} hand-ins")
        return {"seconds": sum(seconds.values()), "steps": seconds, "graded": graded, "feedback": feedback}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def engine_command(root: Path, jobs: int, timings: Path, release: bool = True) -> list[str]:
    command = [sys.executable, "-m", "coursetools.grade", "--root", str(root), "--jobs", str(jobs), "--force",
               "--timings", str(timings)]
    return command if release else [*command, "--no-release"]


def scores(root: Path, handins: int, since: float) -> list[dict]:
    """The engine's score table of a run that started at `since`: one row per hand-in, or the run failed."""
    path = root / "scores.csv"
    if not path.is_file() or path.stat().st_mtime < since:
        raise Failed(f"the engine wrote no {path}")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if len(rows) != handins:
        raise Failed(f"{path} has {len(rows)} rows for {handins} hand-ins")
    return rows


def grade_engine(scratch: Path, stage: Path, digest: str, handins: int, jobs: int, env: dict) -> dict:
    root = course_with(scratch / "engine", stage, digest)
    try:
        # exit 1: some hand-in could not be graded, as broken ones cannot; scores.csv has them all
        run(engine_command(root, jobs, scratch / "warm-up.json"), ROOT, env, handins, allowed=(0, 1))
        since = time.time()
        seconds, _ = run(engine_command(root, jobs, scratch / "timings.json", release=False), ROOT, env, handins,
                         allowed=(0, 1))
        rows = scores(root, handins, since)
        if not (scratch / "timings.json").is_file():
            raise Failed("the engine wrote no --timings file")
        timings = json.loads((scratch / "timings.json").read_text())
        graded = sum(1 for row in rows if row.get("total", "") != "")
        return {"seconds": seconds, "timings": timings, "graded": graded}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def engine_memory(scratch: Path, stage: Path, digest: str, handins: int, jobs: int, env: dict) -> PeakMemory:
    root = course_with(scratch / "memory", stage, digest)
    try:
        since = time.time()
        _, peak = run(engine_command(root, jobs, scratch / "memory.json"), ROOT, env, handins, allowed=(0, 1),
                      memory=True)
        scores(root, handins, since)
        return peak
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- Report ---

def progress(message: str) -> None:
    print(f"[throughput] {message}", file=sys.stderr, flush=True)


def phase_means(runs: list[dict], handins: int) -> tuple[dict, float, float | None, float]:
    """Mean seconds per hand-in of each phase, their sum, the jobs' own total if recorded, and the
    engine's wall per hand-in per job slot. A hand-in with no phases (refused by intake before any
    timing) counts as zero seconds, so every figure is per hand-in of the course."""
    students = [s for r in runs for s in r["timings"]["students"].values()]
    count = handins * len(runs)
    means = {phase: sum(s.get(phase, 0.0) for s in students) / count for phase in PHASES}
    totals = [s["total"] for s in students if "total" in s]
    job_total = sum(totals) / count if len(totals) == len(students) else None
    # the engine's own wall (from its start of grading), else the process's
    per_slot = statistics.fmean(r["timings"].get("wall", r["seconds"]) * r["slots"] / handins for r in runs)
    return means, sum(means.values()), job_total, per_slot


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handins", type=int, default=100)
    parser.add_argument("--memory-sizes", default="100,400", help="comma-separated course sizes for the memory runs")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="the engine's --jobs (default: make grade's own, one per core and one more)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.memory_sizes.split(",") if size.strip()]
    if args.handins < 1 or args.rounds < 1 or args.jobs < 1 or not sizes or min(sizes) < 1:
        parser.error("--handins, --rounds, --jobs and every memory size must be at least 1")

    cases = mix(args.handins)
    kinds = {kind: sum(case.kind == kind for case in cases) for kind in ("demo", "honest", "hostile")}
    print(f"machine: {os.cpu_count()} cores; engine --jobs {args.jobs}; {args.handins} hand-ins "
          f"({kinds['demo']} demo, {kinds['honest']} honest, {kinds['hostile']} hostile), {args.rounds} round(s)",
          flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="throughput-"))
    try:
        env = environment(scratch)
        stage = scratch / "handins"
        digest = lay_handins(stage, with_ids(cases))
        results = {"stock": [], "engine": []}
        for round_number in range(args.rounds):
            order = ["stock", "engine"] if round_number % 2 == 0 else ["engine", "stock"]
            for grader in order:
                progress(f"round {round_number + 1}: {grader}, {args.handins} hand-ins, a warm-up run and a timed one")
                if grader == "stock":
                    results["stock"].append(grade_stock(scratch, stage, digest, args.handins, env))
                else:
                    result = grade_engine(scratch, stage, digest, args.handins, args.jobs, env)
                    results["engine"].append({**result, "slots": min(args.jobs, args.handins)})
        per_handin = {grader: statistics.median(r["seconds"] / args.handins for r in runs)
                      for grader, runs in results.items()}
        speedup = per_handin["stock"] / per_handin["engine"]
        stock_last, engine_last = results["stock"][-1], results["engine"][-1]
        print(f"stock   {per_handin['stock']:7.3f} s per hand-in  (autograde {stock_last['steps']['autograde']:.0f} s "
              f"+ feedback {stock_last['steps']['feedback']:.0f} s; graded {stock_last['graded']}, "
              f"feedback for {stock_last['feedback']})")
        print(f"engine  {per_handin['engine']:7.3f} s per hand-in  (graded {engine_last['graded']}, --jobs {args.jobs})")
        print(f"throughput: {speedup:.1f}x stock")
        means, phase_sum, job_total, per_slot = phase_means(results["engine"], args.handins)
        print("engine s per hand-in: " + "  ".join(f"{phase.replace('_', ' ')} {means[phase]:.3f}" for phase in PHASES))
        total = f" (jobs' own total {job_total:.3f} s)" if job_total is not None else ""
        print(f"  sum of phases {phase_sum:.3f} s{total} vs wall per hand-in per job slot {per_slot:.3f} s "
              f"({phase_sum / per_slot:.0%} accounted for)")

        peaks = {}
        for size in sizes:
            progress(f"engine memory: {size} hand-ins")
            memory_stage = scratch / f"handins-{size}"
            memory_digest = lay_handins(memory_stage, with_ids([cases[i % len(cases)] for i in range(size)]))
            peaks[size] = engine_memory(scratch, memory_stage, memory_digest, size, args.jobs, env)
            shutil.rmtree(memory_stage)
        largest, smallest = max(sizes), min(sizes)
        print("engine peak RSS, MiB " + "".join(f"{f'{size} hand-ins':>14}" for size in sizes)
              + f"{f'{largest}/{smallest}':>9}")
        growth = {}
        for label, attribute in (("driver", "driver"), ("workers, no kernels", "workers"),
                                 ("largest one worker", "one_worker")):
            small = getattr(peaks[smallest], attribute)
            growth[label] = getattr(peaks[largest], attribute) / small if small else float("nan")
            print(f"  {label:19s}" + "".join(f"{getattr(peaks[size], attribute) / MiB:14.0f}" for size in sizes)
                  + f"{growth[label]:8.2f}x")

        fast = speedup >= TARGET_SPEEDUP
        flat = growth["driver"] <= GROWTH_TOLERANCE and growth["workers, no kernels"] <= GROWTH_TOLERANCE
        print(f"verdict: {'meets' if fast and flat else 'misses'} the target (>= {TARGET_SPEEDUP:.0f}x stock, flat memory): "
              f"{speedup:.1f}x stock, {'fast enough' if fast else 'too slow'}; memory {largest}/{smallest} "
              f"driver {growth['driver']:.2f}x, workers {growth['workers, no kernels']:.2f}x, "
              f"{'flat' if flat else f'grows (over {GROWTH_TOLERANCE}x)'}")
        return 0
    except Failed as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
