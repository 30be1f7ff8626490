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

Usage: python -m coursetools.exchange [--root DIR] [--config-file FILE] [--config-only] [--keep-existing]
"""

import argparse
import os
import stat
import sys
from pathlib import Path

from nbgrader.exchange.default import ExchangeList

from coursetools import course

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
