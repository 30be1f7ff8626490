"""A throwaway PostgreSQL server on 127.0.0.1 for tests that keep nbgrader's gradebook in PostgreSQL.

`temporary_postgres(workdir)` starts a fresh cluster with an empty `gradebook` database and
removes every trace of it on exit. PostgreSQL refuses to run as root, so when the tests run
as root the server runs as `nobody`.
"""

import contextlib
import dataclasses
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

USER = "grader"
DATABASE = "gradebook"
UNPRIVILEGED = "nobody"
START_TIMEOUT = 30
STOP_TIMEOUT = 20
# A Unix socket's path must fit in 107 bytes; the folder adds "/postgres-XXXXXXXX/server/.s.PGSQL.NNNNN"
SOCKET_PATH_MAX = 107
SOCKET_SUFFIX = len("/postgres-XXXXXXXX/server/.s.PGSQL.65535")


SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
# A test server loses nothing worth keeping in a crash
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
"""


class PostgresUnavailable(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class Server:
    url: str
    pid: int
    port: int


def find_binaries() -> Path:
    """The folder holding initdb and pg_ctl: PATH first, then the newest /usr/lib/postgresql/<version>/bin."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    # Debian keeps the server's binaries off PATH, one folder per major version
    candidates = [folder for folder in Path("/usr/lib/postgresql").glob("*/bin")
                  if os.access(folder / "initdb", os.X_OK) and os.access(folder / "pg_ctl", os.X_OK)]
    if candidates:
        return max(candidates, key=lambda folder: [int(part) for part in re.findall(r"\d+", folder.parent.name)])
    raise PostgresUnavailable(
        "PostgreSQL's server binaries (initdb, pg_ctl) were found neither on PATH nor in "
        "/usr/lib/postgresql/<version>/bin. Run `make` (scripts/bootstrap.sh installs them when run as root) "
        "or `sudo apt-get install postgresql`, then rerun the tests.")


def alive(pid: int) -> bool:
    """Whether a process exists and has not exited; a zombie nobody has reaped yet counts as gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _drop_privileges(account: pwd.struct_passwd) -> list[str]:
    """The command prefix that runs a program as `account` with no supplementary groups."""
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups", "--"]
    if shutil.which("runuser"):
        return ["runuser", "-u", account.pw_name, "--"]
    raise PostgresUnavailable(
        "PostgreSQL will not run as root, and neither setpriv nor runuser (util-linux) was found to start it "
        f"as {account.pw_name!r}. Install util-linux, or run the tests as an ordinary user.")


def _traversable(folder: Path, account: pwd.struct_passwd) -> bool:
    """Whether `account` (with only its primary group) may pass through `folder` and every folder above it."""
    for part in [folder, *folder.parents]:
        info = part.stat()
        if info.st_uid == account.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid == account.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _environment() -> dict:
    # A PGHOST, PGPORT or PGDATA set by the caller must not point the tools at some other server
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    # Naming the time zone spares initdb its scan of the whole zoneinfo tree
    return env | {"TZ": "UTC", "LC_ALL": "C"}


def _run(command: list, prefix: list[str], what: str, cwd: Path, timeout: float) -> None:
    result = subprocess.run([*prefix, *map(str, command)], cwd=cwd, env=_environment(), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise PostgresUnavailable(f"{what} failed (exit status {result.returncode}):\n{result.stdout}{result.stderr}")


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text(encoding="ascii").split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _stop(bindir: Path, data: Path, pid: int | None, prefix: list[str], cwd: Path) -> None:
    """Stop the server pg_ctl started; if pg_ctl cannot, signal that postmaster alone, never anything else."""
    failure = None
    try:
        _run([bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", STOP_TIMEOUT, "stop"], prefix,
             "pg_ctl stop", cwd, STOP_TIMEOUT + 10)
    except (PostgresUnavailable, subprocess.TimeoutExpired) as error:
        failure = error
    if pid is None or _wait_gone(pid, 5):
        return
    # An immediate shutdown: the postmaster takes its backends down with it
    for sig, grace in ((signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if _wait_gone(pid, grace):
            return
    raise PostgresUnavailable(f"the test PostgreSQL server (pid {pid}) is still running after pg_ctl stop "
                              f"({failure or 'which reported success'}) and SIGKILL; stop it by hand: kill -9 {pid}")


def _log_tail(log: Path, lines: int = 30, since: int = 0) -> str:
    try:
        with open(log, "rb") as handle:
            handle.seek(since)
            return "\n".join(handle.read().decode("utf-8", "replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no server log was written)"


@contextlib.contextmanager
def temporary_postgres(workdir: Path):
    """A new PostgreSQL server on a free port of 127.0.0.1 with an empty database `gradebook`, user `grader`.

    Yields a `Server` whose `url` SQLAlchemy (and nbgrader's Gradebook) accepts. Its files live
    in a new folder inside `workdir`, or in a new folder in the system's temporary folder when
    the server's user could not reach `workdir`; server and folder are gone on exit, whether
    or not the body raised.
    """
    bindir = find_binaries()
    workdir = Path(workdir).resolve()
    account = pwd.getpwnam(UNPRIVILEGED) if os.geteuid() == 0 else None
    prefix = _drop_privileges(account) if account else []

    base = workdir
    if (account and not _traversable(workdir, account)) or len(str(workdir)) + SOCKET_SUFFIX > SOCKET_PATH_MAX:
        base = None  # the system's temporary folder, which everyone may pass through
    folder = Path(tempfile.mkdtemp(prefix="postgres-", dir=base))
    pid = None
    try:
        # Everything the server writes sits in one folder of its own; the one above only lets it through
        server_dir = folder / "server"
        server_dir.mkdir(mode=0o700)
        if account:
            if not _traversable(folder.parent, account):
                raise PostgresUnavailable(
                    f"{folder.parent} cannot be passed through by {UNPRIVILEGED!r}, the user the test server runs as. "
                    "Point TMPDIR at a folder every user may enter (such as /tmp) and rerun the tests.")
            folder.chmod(0o711)
            os.chown(server_dir, account.pw_uid, account.pw_gid)
        data, log = server_dir / "data", server_dir / "server.log"

        _run([bindir / "initdb", "-D", data, "--auth=trust", f"--username={USER}", "-E", "UTF8", "--locale=C",
              "--no-sync"], prefix, "initdb", server_dir, 120)
        socket_dir = str(server_dir).replace("'", "''")
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(SETTINGS.format(socket_dir=socket_dir))

        # Another process may take the free port before the server binds it; then the next attempt picks another
        for attempt in range(3):
            port, logged = _free_port(), log.stat().st_size if log.exists() else 0
            try:
                _run([bindir / "pg_ctl", "-D", data, "-l", log, "-o", f"-p {port}", "-w", "-t", START_TIMEOUT,
                      "start"], prefix, "pg_ctl start", server_dir, START_TIMEOUT + 10)
            except (PostgresUnavailable, subprocess.TimeoutExpired) as error:
                # pg_ctl gives up waiting without stopping a postmaster that is still coming up
                pid = _postmaster_pid(data)
                if pid is not None:
                    _stop(bindir, data, pid, prefix, server_dir)
                    pid = None
                if attempt < 2 and "Address already in use" in _log_tail(log, since=logged):
                    continue
                raise PostgresUnavailable(f"the test PostgreSQL server did not start: {error}\n"
                                          f"Its log ends:\n{_log_tail(log)}") from None
            break
        pid = _postmaster_pid(data)
        if pid is None:
            raise PostgresUnavailable(f"pg_ctl reported the server started, but {data / 'postmaster.pid'} "
                                      f"names no process. Its log ends:\n{_log_tail(log)}")

        # autocommit: CREATE DATABASE refuses to run inside a transaction
        with psycopg.connect(host="127.0.0.1", port=port, user=USER, dbname="postgres", autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")

        yield Server(url=f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}", pid=pid, port=port)
    finally:
        try:
            if pid is None:
                pid = _postmaster_pid(folder / "server" / "data")
            if pid is not None:
                _stop(bindir, folder / "server" / "data", pid, prefix, folder / "server")
        finally:
            shutil.rmtree(folder)
