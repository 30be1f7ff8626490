"""What a hand-in may be: a student id and a folder of plain files, read as data, never followed.

Hand-ins arrive from an LMS export, an exchange or an unpacked archive, so
their folder names and files are the student's choice. The grader usually
runs as root. This module holds the rules that keep it safe, for every way
of grading:

- **Student ids.** nbgrader takes an id as a glob pattern and as part of
  paths: `[A-Z]*` would grade (and undo) other students, `../x` would write
  elsewhere, a leading `=` becomes a formula in a spreadsheet. An id that
  breaks a rule is refused with a message that says how to rename it.
- **Files.** Only regular files are read, opened without following a link
  (`O_NOFOLLOW`), and only up to a size limit. A link, a device, a pipe or a
  socket anywhere in a hand-in refuses the hand-in, and nothing of what it
  points to is read, copied or quoted.

`make grade`'s intake applies these rules before nbgrader sees a hand-in.
`guard_nbgrader()`, called from nbgrader_config.py, applies them inside
nbgrader itself, so `nbgrader autograde`, `generate_feedback` and the
formgrader's buttons refuse the same hand-ins before copying any file.
"""

import os
import stat
import unicodedata
from pathlib import Path

# A notebook larger than this is not a hand-in of this course: the lesson's own
# notebook, figures and outputs included, is well under 1 MB.
MAX_NOTEBOOK_BYTES = 20 * 1024**2
MAX_CELLS = 1000  # the release has 60; room for a student's many scratch cells
MAX_FILES = 200  # files in one hand-in folder, all levels
MAX_FOLDER_BYTES = 100 * 1024**2

GLOB_CHARACTERS = set("*?[]")
SEPARATORS = set("/\\")
FORMULA_STARTS = tuple("=+-@")


class Refused(Exception):
    """A hand-in that cannot be graded as it is; the message says why and what to do."""


class TooLarge(Refused):
    """A hand-in over one of the size limits."""


def student_id_problem(student: str) -> str:
    """Why a folder name cannot be used as a student id; empty if it can."""
    if not student or student in (".", ".."):
        return "is not a name"
    if student != student.strip():
        return "has a space at the start or end"
    if any(unicodedata.category(ch) == "Cs" for ch in student):  # how Python keeps bytes that were not UTF-8
        return "is not valid UTF-8 (an archive written with another encoding?)"
    if any(is_unsafe_character(ch) for ch in student):
        return "contains a control character, a line break or text-direction marks"
    if student.startswith(FORMULA_STARTS):
        return "starts with = + - or @, which spreadsheets read as a formula"
    if GLOB_CHARACTERS & set(student):
        return "contains * ? [ or ], which nbgrader reads as a pattern matching other students"
    if SEPARATORS & set(student):
        return "contains a path separator"
    return ""


# Bidirectional overrides and isolates reorder how a name reads: an id could pass for another
TEXT_DIRECTION = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_unsafe_character(ch: str) -> bool:
    """Control characters, line and paragraph separators, text-direction marks, and bytes that were not UTF-8.

    Other invisible characters are part of real names: a zero-width
    non-joiner in Persian, a no-break space between a first and last name.
    """
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") or ch in TEXT_DIRECTION


def rename_advice(student: str) -> str:
    """What the instructor should do about a refused id, quoting it safely."""
    return (f"folder name {shown_name(student)} {student_id_problem(student)}: rename the folder in submitted/ "
            "to the student's id in letters, digits, dots, dashes or underscores, then grade again")


def shown_name(name: str) -> str:
    """A file or folder name as it can be printed: control characters visible, never acted on."""
    return ascii(name) if any(is_unsafe_character(ch) for ch in name) or name != name.strip() else name


def kind_of(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a link"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a file" if stat.S_ISREG(mode) else "something that is not a file"


def open_folder(path: Path, dir_fd: int | None = None) -> int:
    """A descriptor of a real folder, never a link to one."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)


def check_folder(path: Path, limits: bool = True) -> None:
    """Refuse a hand-in folder that holds anything but folders and regular files, or too much.

    Walks by descriptors, so a link is seen as a link, never entered.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        raise Refused(f"{shown_name(path.name)} is {kind_of(mode)}, not a folder: hand-ins are read as plain files only, "
                      "so nothing it points to was read; ask for the notebook itself")
    count, total = 0, 0
    pending = [(open_folder(path), Path(path.name))]
    try:
        while pending:
            fd, shown = pending.pop()
            try:
                with os.scandir(fd) as entries:
                    for entry in entries:
                        mode = entry.stat(follow_symlinks=False).st_mode
                        where = shown / entry.name
                        if stat.S_ISDIR(mode):
                            pending.append((open_folder(entry.name, dir_fd=fd), where))
                            continue
                        if not stat.S_ISREG(mode):
                            raise Refused(f"{shown_name(str(where))} is {kind_of(mode)}, not a plain file: nothing "
                                          "it points to was read; ask for a hand-in without it")
                        if entry.name.startswith(".") or any(part.startswith(".") for part in shown.parts[1:]):
                            continue  # a .git folder or editor files: checked for links, never read or counted
                        count += 1
                        total += entry.stat(follow_symlinks=False).st_size
                        if limits and (count > MAX_FILES or total > MAX_FOLDER_BYTES):
                            raise TooLarge(f"the hand-in holds more than {MAX_FILES} files or "
                                          f"{MAX_FOLDER_BYTES // 1024**2} MB: ask for the notebook alone")
            finally:
                os.close(fd)
    finally:
        for fd, _ in pending:
            os.close(fd)


def read_regular_file(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of a regular file, opened without following a link and never more than `limit`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if os.path.islink(path):
            raise Refused(f"{shown_name(path.name)} is a link, not a notebook: nothing it points to was read; "
                          "ask for the notebook itself") from None
        raise Refused(f"{shown_name(path.name)} could not be opened ({error.strerror}): ask for a fresh copy") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{shown_name(path.name)} is {kind_of(info.st_mode)}, not a notebook file: "
                          "ask for the notebook itself")
        if info.st_size > limit:
            raise TooLarge(f"{shown_name(path.name)} is {info.st_size / 1024**2:.0f} MB, over the "
                          f"{limit // 1024**2} MB a notebook of this course may be: ask the student to clear "
                          "the outputs (Edit, Clear Outputs of All Cells), save and hand it in again")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1024**2, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise TooLarge(f"{shown_name(path.name)} is over the {limit // 1024**2} MB a notebook may be")
        return b"".join(chunks)
    finally:
        os.close(fd)


def plain_files_below(folder: Path, skip=lambda relative: False) -> dict[str, bytes]:
    """Every regular file below a folder that `check_folder` accepted, by relative path; links never followed.

    Hidden files and folders (`.git`, `.ipynb_checkpoints`, macOS `._` files)
    are the editor's or the system's, not the student's work: left out.
    """
    files = {}
    for parent, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(parent, d))]
        for name in names:
            relative = os.path.relpath(os.path.join(parent, name), folder)
            if not name.startswith(".") and not skip(relative):
                files[relative] = read_regular_file(Path(parent) / name, MAX_FOLDER_BYTES)
    return files


def check_cells(nb) -> None:
    cells = nb.get("cells")
    if isinstance(cells, list) and len(cells) > MAX_CELLS:
        raise TooLarge(f"the notebook has {len(cells)} cells, over the {MAX_CELLS} this course grades: "
                      "ask the student to delete the scratch cells and hand it in again")


def check_submission(submitted_folder: Path, student: str, limits: bool = True) -> None:
    """Every rule, for one student's folder under submitted/ (as nbgrader lays it out)."""
    problem = student_id_problem(student)
    if problem:
        raise Refused(rename_advice(student))
    check_folder(submitted_folder / student, limits)


def guard_nbgrader() -> None:
    """Make nbgrader's converters refuse unsafe ids and hand-ins before they copy or read a file.

    nbgrader copies every file beside a notebook with `shutil.copy`, which
    follows links and reads devices to the end, and expands a student id as a
    glob. Both happen before any preprocessor runs, so the check wraps the
    two converter methods where they start: the id pattern is checked once
    per command, each matched hand-in before it is copied. A refused hand-in
    fails on its own, with the reason in nbgrader's log; the others are
    graded.
    """
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import BaseConverter

    if getattr(BaseConverter, "_course_guarded", False):
        return
    original_init_notebooks = BaseConverter.init_notebooks
    original_init_assignment = BaseConverter.init_assignment

    def init_notebooks(self):
        requested = self.coursedir.student_id
        if requested not in ("*", "."):
            problem = student_id_problem(requested)
            if problem:
                raise Refused(f"refusing student id {shown_name(requested)}: it {problem}")
        return original_init_notebooks(self)

    def init_assignment(self, assignment_id, student_id):
        if student_id != ".":  # generate_assignment works on source/, which has no students
            source = Path(self._format_source(assignment_id, student_id))
            # Sizes are limits on what a student hands in, so they apply to autograde's input; the
            # feedback step reads the grader's own output, which only has to hold no link
            hand_in = isinstance(self, Autograde)
            check_submission(source.parent.parent, student_id, limits=hand_in)
            if hand_in:
                for notebook in self.notebooks:
                    check_cells_of_file(Path(notebook))
        return original_init_assignment(self, assignment_id, student_id)

    BaseConverter.init_notebooks = init_notebooks
    BaseConverter.init_assignment = init_assignment
    BaseConverter._course_guarded = True


def check_cells_of_file(path: Path) -> None:
    import json

    try:
        nb = json.loads(read_regular_file(path))
    except ValueError:
        return  # nbgrader reports a malformed notebook itself, for that student only
    check_cells(nb if isinstance(nb, dict) else {})
