"""nbgrader's exchange, for a course on a shared JupyterHub: `make exchange` sets it up.

The exchange is one folder every user of the machine can write to. The
instructor releases the assignment into it (`nbgrader release_assignment`),
each student fetches and submits from *Nbgrader → Assignment List*, the
instructor collects the hand-ins into submitted/ (`nbgrader collect`),
grades them (`make grade`) and hands the feedback back
(`nbgrader release_feedback`), which students fetch from the same list.

`make exchange [EXCHANGE=/path]` creates the folder (`/srv/nbgrader/exchange`
unless told otherwise) with the mode nbgrader expects, world-writable, and
writes the setting into this environment's Jupyter configuration
(`.venv/etc/jupyter/nbgrader_config.py`), where every nbgrader command and
every Jupyter server started from this environment finds it. On a
JupyterHub whose users run another environment, copy that file to
`/etc/jupyter/nbgrader_config.py`.

Without an exchange, nbgrader's Assignment List shows "Error fetching
courses!" and the same error three times. `OptionalExchangeList`, which the
same file configures (`make` writes it, pointing at the default folder),
lists a single "course" whose name says that there is no exchange and how
notebooks are handed out instead, so a student reads one plain sentence.

The exchange's inbound folder is written by students, and `nbgrader
collect` usually runs as the instructor or root. nbgrader's own collect
copies with `shutil.copytree`, which reads through links (a submission
holding a link to a private key would bring the key into submitted/, where
the student's code then reads it), blocks on a pipe, and takes the student
id from the folder's name, so one student could hand in as another.
`PlainFileCollect`, configured in the course's nbgrader_config.py for
`nbgrader collect` and the formgrader's *Collect* button, copies plain files
only, read without following a link, walking the submission by descriptors;
it refuses a submission folder that is a link, holds a link, a pipe or a
device, or is too large, and one whose id is not its owner's login or not a
usable id, saying why, and collects everyone else.

Usage: python -m coursetools.exchange [--root DIR] [--config-file FILE] [--config-only] [--keep-existing]
"""

import argparse
import datetime
import fnmatch
import glob
import os
import shutil
import stat
import sys
from collections import defaultdict
from pathlib import Path

from nbgrader.exchange.abc.exchange import ExchangeError
from nbgrader.exchange.default import ExchangeCollect, ExchangeList

from coursetools import course
from coursetools.engine import handin

try:
    import pwd
except ImportError:  # not on Windows, where nbgrader skips the owner check too
    pwd = None

ROOT_VARIABLE = "COURSE_EXCHANGE"
DEFAULT_ROOT = Path("/srv/nbgrader/exchange")
ENVIRONMENT_CONFIG = Path(sys.prefix) / "etc" / "jupyter" / "nbgrader_config.py"
# nbgrader's release_assignment creates the root with this mode and puts it back when it differs:
# every student writes into the course's inbound folder below it
ROOT_MODE = 0o777
NO_EXCHANGE = ("No assignment exchange is set up for this course: your instructor hands out and "
               "collects the notebooks another way (see the course page).")


class OptionalExchangeList(ExchangeList):
    """nbgrader's exchange list, which says "no exchange" as its only course when the exchange folder is missing.

    nbgrader's Assignment List shows each course name as it is, and the
    assignments of the first; an error instead becomes three identical
    messages. Listing the sentence as a course with no assignments shows it
    once, beside the list's usual "no assignments" placeholders.
    """

    def start(self):
        if os.path.isdir(self.root) or self.inbound or self.remove:
            return super().start()
        if self.cached or self.coursedir.course_id == NO_EXCHANGE:
            return []
        return [{"course_id": NO_EXCHANGE, "assignment_id": "", "status": "none", "path": "", "notebooks": []}]


# Folders nested deeper than this in a submission are refused: a notebook's companions need a few levels
MAX_DEPTH = 32
# The key of a record whose folder name nbgrader cannot read (no time, or no time nbgrader can parse)
UNREADABLE = "unreadable"
# Files and folders in one submission: grading takes no more than handin.MAX_FILES files, and each entry
# is written into submitted/ whatever its size
MAX_ENTRIES = 10 * handin.MAX_FILES


class Refused(Exception):
    """A submission that is not collected, and why."""


class PlainFileCollect(ExchangeCollect):
    """nbgrader's collect, copying a submission's plain files only and only from its owner."""

    def _path_to_record(self, path):
        """nbgrader's record of a submission folder; students name these folders, so one whose name holds no
        time nbgrader can read is marked, never allowed to stop the batch."""
        try:
            return super()._path_to_record(path)
        except (ExchangeError, ValueError, OverflowError, TypeError) as error:
            return {"username": os.path.basename(path).split("+")[0], "filename": os.path.basename(path),
                    "timestamp": datetime.datetime.min, UNREADABLE: str(error) or type(error).__name__}

    def init_src(self):
        super().init_src()  # the course and its inbound folder, the due date, as nbgrader finds them
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        trusted = defaultdict(list)
        for path in glob.glob(pattern):
            record = self._path_to_record(path)
            problem = (f"its name holds no time nbgrader can read ({record[UNREADABLE]}); ask the student to "
                       "submit again" if UNREADABLE in record else self.record_problem(path, record["username"]))
            if problem:
                self.log.error("Not collecting %s: %s", handin.shown_name(os.path.basename(path)), problem)
            else:
                trusted[record["username"]].append(record)
        self.src_records = [self.chosen(records) for records in trusted.values()]

    def chosen(self, records: list[dict]) -> dict:
        """The submission nbgrader would pick: the latest, or with --before-duedate the latest before it."""
        latest_first = self._sort_by_timestamp(records)
        if self.duedate is None or not self.before_duedate:
            return latest_first[0]
        on_time = [record for record in latest_first if record["timestamp"] <= self.duedate]
        return (on_time or latest_first)[0]

    def record_problem(self, path: str, student: str) -> str:
        """Why a submission folder is not collected; empty when it may be."""
        problem = handin.student_id_problem(student)
        if problem:
            return f"its student id {problem}; ask the student to submit again from a usable login"
        try:
            info = os.lstat(path)
        except OSError as error:  # removed by the student since it was listed
            return f"it could not be looked at ({error.strerror}); ask the student to submit again"
        if not stat.S_ISDIR(info.st_mode):
            return (f"it is {handin.kind_of(info.st_mode)}, not a folder: nothing it points to was read; "
                    "ask the student to submit again")
        if self.check_owner and pwd is not None:
            try:
                owner = pwd.getpwuid(info.st_uid).pw_name
            except KeyError:
                owner = f"user {info.st_uid}"
            if owner != student:
                return (f"it claims to be {student!r}'s but belongs to {owner!r}: a submission under another "
                        f"student's name; {student!r}'s own submissions are collected as usual")
        try:  # checked before one is chosen: a refused latest submission leaves the student's earlier one
            self.copy(path, None)
        except Refused as why:
            return str(why)
        return ""

    def copy(self, src, dest) -> list[str]:
        return copy_plain_files(src, dest, self.coursedir.ignore, self.coursedir.include,
                                self.coursedir.max_file_size, self.coursedir.max_dir_size)

    def do_copy(self, src, dest, log=None):
        """The submission's plain files, never through a link; a refused one leaves nothing behind."""
        try:
            for name in self.copy(src, dest):
                self.log.warning("Left out of %s: %s is over %s kB (CourseDirectory.max_file_size)",
                                 handin.shown_name(os.path.basename(src)), handin.shown_name(name),
                                 self.coursedir.max_file_size)
        except Refused as why:
            shutil.rmtree(dest, ignore_errors=True)
            try:
                os.rmdir(os.path.dirname(dest))  # the student's folder nbgrader made for it, when nothing else is in it
            except OSError:
                pass
            self.log.error("Not collecting %s: %s", handin.shown_name(os.path.basename(src)), why)


def copy_plain_files(src, dest, ignore, include, max_file_kb, max_dir_kb) -> list[str]:
    """Copy a folder's regular files and folders, opened by descriptor without following links; returns
    the files left out for their size. With `dest` None, only check that the folder could be copied.

    `ignore`, `include`, `max_file_kb` and `max_dir_kb` are nbgrader's own
    CourseDirectory settings, applied as nbgrader applies them: names matching
    `ignore` or not matching `include` are skipped, as are files over
    `max_file_kb`; a folder over `max_dir_kb` in all is refused. The student
    can change the folder while it is copied: anything that can no longer be
    read, or written where it goes, refuses the submission, with why.
    """
    try:
        top = handin.open_folder(Path(src))
    except OSError as error:
        raise Refused(f"the submission folder could not be opened as a folder ({error.strerror})") from None
    try:
        copy = PlainCopy(os.fstat(top).st_uid, ignore, include, max_file_kb, max_dir_kb)
        copy.folder(top, None if dest is None else Path(dest), os.path.basename(src))
    finally:
        os.close(top)
    return copy.left_out


class PlainCopy:
    """One submission's copy: what it has counted so far, and the rules each entry must meet."""

    def __init__(self, owner: int, ignore, include, max_file_kb, max_dir_kb):
        self.owner = owner  # the submission folder's owner: every entry below it is theirs
        self.ignore, self.include = ignore or [], include or []
        self.max_file_kb, self.max_dir_kb = max_file_kb, max_dir_kb
        self.copied, self.entries, self.left_out = 0, 0, []

    def wanted(self, name: str) -> bool:
        return not any(fnmatch.fnmatch(name, pattern) for pattern in self.ignore) and (
            not self.include or any(fnmatch.fnmatch(name, pattern) for pattern in self.include))

    def folder(self, fd: int, target: Path | None, shown: str, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise Refused(f"its folders are nested more than {MAX_DEPTH} deep: ask the student to submit the "
                          "notebook and the files it reads only")
        if target is not None:
            written(target.mkdir, shown, mode=0o755)
        with os.scandir(fd) as entries:
            names = sorted(entry.name for entry in entries)
        for name in filter(self.wanted, names):
            where = f"{shown}/{name}"
            self.entries += 1
            if self.entries > MAX_ENTRIES:
                raise Refused(f"it holds more than {MAX_ENTRIES} files and folders: ask the student to submit the "
                              "notebook and the files it reads only")
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except OSError as error:  # removed since the folder was listed, or in a folder that cannot be searched
                raise Refused(f"{handin.shown_name(where)} could not be looked at ({error.strerror}): "
                              "ask the student to submit again") from None
            if info.st_uid != self.owner:  # a second name (hard link) of a file the student may not read
                raise Refused(f"{handin.shown_name(where)} belongs to another user than the submission: nothing "
                              "was read from it; ask the student to submit without it")
            if stat.S_ISDIR(info.st_mode):
                child = open_entry(name, fd, os.O_DIRECTORY, where)
                try:
                    self.folder(child, target and target / name, where, depth + 1)
                finally:
                    os.close(child)
            elif stat.S_ISREG(info.st_mode):
                self.file(fd, name, target and target / name, where)
            else:
                raise Refused(f"{handin.shown_name(where)} is {handin.kind_of(info.st_mode)}, not a plain file: "
                              "nothing it points to was read; ask the student to submit without it")

    def file(self, fd: int, name: str, target: Path | None, shown: str) -> None:
        source = open_entry(name, fd, os.O_NONBLOCK, shown)
        try:
            info = os.fstat(source)
            if not stat.S_ISREG(info.st_mode):  # swapped after it was looked at
                raise Refused(f"{handin.shown_name(shown)} changed into {handin.kind_of(info.st_mode)} "
                              "while it was collected: ask the student to submit again")
            if self.max_file_kb and info.st_size > 1000 * self.max_file_kb:
                self.left_out.append(shown)  # as nbgrader: a file over CourseDirectory.max_file_size is left out
                return
            if info.st_uid != self.owner:
                raise Refused(f"{handin.shown_name(shown)} changed owner while it was collected: nothing was read "
                              "from it; ask the student to submit again")
            self.copied += info.st_size
            if self.max_dir_kb and self.copied > 1000 * self.max_dir_kb:
                raise Refused(f"the submission is over {self.max_dir_kb} kB (CourseDirectory.max_dir_size): "
                              "ask the student to submit the notebook alone")
            if target is not None:
                copy_bytes(source, info.st_size, target, shown)
        finally:
            os.close(source)


def copy_bytes(source: int, size: int, target: Path, shown: str) -> None:
    """The `size` bytes that were looked at, and no more: a file the student extends meanwhile is refused."""
    remaining = size
    with written(open, shown, target, "xb") as out:
        while chunk := os.read(source, min(1024 * 1024, remaining + 1)):
            if len(chunk) > remaining:
                raise Refused(f"{handin.shown_name(shown)} grew while it was collected: "
                              "ask the student to submit again")
            remaining -= len(chunk)
            out.write(chunk)


def written(make, shown: str, *args, **kwargs):
    try:
        return make(*args, **kwargs)
    except OSError as error:  # a path too long for the destination, for one
        raise Refused(f"{handin.shown_name(shown)} could not be copied ({error.strerror}): "
                      "ask the student to submit the notebook and the files it reads only") from None


def open_entry(name: str, fd: int, flags: int, shown: str) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | flags, dir_fd=fd)
    except OSError as error:
        raise Refused(f"{handin.shown_name(shown)} could not be opened as a plain file or folder "
                      f"({error.strerror}): ask the student to submit again") from None


def create_root(root: Path) -> None:
    """The exchange folder, world-writable as nbgrader needs it; a link or a file in its place is refused."""
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        root.mkdir(parents=True)
        info = os.lstat(root)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise SystemExit(f"exchange: {root} exists and is not a folder (a link or a file): remove it, or pass "
                         "another path with EXCHANGE=/path")
    os.chmod(root, ROOT_MODE)


def config_text(root: Path, course_root: Path) -> str:
    return f'''"""nbgrader settings for every nbgrader command and Jupyter server of this environment.

Written by `make exchange` (coursetools/exchange.py); run it again to change them.
On a JupyterHub whose users run another environment, copy this file to
/etc/jupyter/nbgrader_config.py.
"""
import sys

sys.path.append({str(course_root)!r})  # the course's coursetools, for the exchange list below

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
c.Exchange.root = {str(root)!r}
# Without an exchange, the Assignment List says so in one sentence instead of three errors
c.ExchangeFactory.list = "coursetools.exchange.OptionalExchangeList"
'''


def write_config(destination: Path, root: Path, course_root: Path = course.REPOSITORY_ROOT) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".new")
    temporary.write_text(config_text(root, course_root), encoding="utf-8")
    temporary.replace(destination)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Set up nbgrader's exchange for this course.")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT),
                        help=f"the exchange folder (default: ${ROOT_VARIABLE}, else {DEFAULT_ROOT})")
    parser.add_argument("--config-file", type=Path, default=ENVIRONMENT_CONFIG,
                        help="the Jupyter configuration file to write (default: this environment's)")
    parser.add_argument("--config-only", action="store_true", help="write the configuration, create no folder")
    parser.add_argument("--keep-existing", action="store_true", help="leave a configuration file that exists alone")
    args = parser.parse_args(argv)
    root = args.root.absolute()
    if args.keep_existing and args.config_file.exists():
        return 0
    if not args.config_only:
        try:
            create_root(root)
        except PermissionError:
            raise SystemExit(f"exchange: no permission to create {root}: run `sudo make exchange`, or pass a folder "
                             "you can create with EXCHANGE=/path") from None
        print(f"exchange: {root} is ready (mode {ROOT_MODE:o}: every user can release, submit and collect)")
    write_config(args.config_file, root)
    print(f"exchange: nbgrader in this environment now uses it ({args.config_file})")
    if not args.config_only:
        print("exchange: students on a JupyterHub with another environment need the same file in /etc/jupyter/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
