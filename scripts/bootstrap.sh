#!/usr/bin/env bash
# Create the course's virtual environment in .venv from the pinned requirements.
# Called by make whenever requirements.txt is newer than the environment; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "bootstrap: '$PYTHON' was not found. Install Python 3.11 or newer, or run 'make PYTHON=/path/to/python3.11'." >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bootstrap: nbgrader 0.9.6 needs Python 3.11 or newer, but '$PYTHON' is $("$PYTHON" -V 2>&1)." \
         "Install a newer Python and run 'make PYTHON=python3.11' (or newer)." >&2
    exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        # Debian and Ubuntu ship venv support in a separate package
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "bootstrap: installing Debian's venv support for $PYTHON" >&2
            apt-get update -qq
            apt-get install -y -qq "python3-venv" >/dev/null
            "$PYTHON" -m venv "$VENV"
        else
            echo "bootstrap: '$PYTHON -m venv' failed. On Debian or Ubuntu run 'sudo apt-get install python3-venv', then rerun make." >&2
            exit 1
        fi
    fi
fi

# A system package the course needs: installed as root where apt-get exists, else what to do is said
install_or_explain() {  # package, what it is for, the advice when it cannot be installed here
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing $1, $2" >&2
        apt-get update -qq
        # dependencies such as tzdata would otherwise stop to ask questions
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
    else
        echo "bootstrap: $3" >&2
    fi
}

# Student code is graded inside a bubblewrap sandbox (coursetools/engine/sandbox.py)
if [ "$(uname -s)" = Linux ] && ! command -v bwrap >/dev/null 2>&1; then
    install_or_explain bubblewrap "the sandbox for student code" \
        "bubblewrap is missing; grading will refuse to run student code until it is installed (sudo apt-get install bubblewrap), or until you pass --no-sandbox."
fi

# The cluster tests keep the gradebook in a throwaway PostgreSQL server (tests/postgres.py).
# Debian puts the server's binaries in /usr/lib/postgresql/<version>/bin, which is not on PATH.
have_postgres_server() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
        return 0
    fi
    local bin
    for bin in /usr/lib/postgresql/*/bin; do
        if [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/postgres" ]; then
            return 0
        fi
    done
    return 1
}
if ! have_postgres_server; then
    install_or_explain postgresql "the server the cluster tests keep a gradebook in" \
        "PostgreSQL's server (initdb, pg_ctl, postgres) is missing; only the cluster tests and grading with DB=postgresql://... need it (sudo apt-get install postgresql)."
fi

# The browser tests drive a real Chromium through Playwright (tests/browser.py), never a browser
# Playwright downloads: Debian's package, or the one COURSE_CHROMIUM names
have_chromium() {
    [ -n "${COURSE_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 \
        || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1
}
if ! have_chromium; then
    install_or_explain chromium "the browser the browser tests drive" \
        "Chromium is missing; only the browser tests need it (sudo apt-get install chromium, or set COURSE_CHROMIUM to a Chromium or Chrome)."
fi

"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
# The kernel that runs the notebooks is this environment's own Python
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
# Grading runs every hand-in in this kernel, inside the bubblewrap sandbox (nbgrader_config.py)
"$VENV/bin/python" coursetools/engine/sandbox_kernel.py install >/dev/null
# nbgrader's Assignment List says in one sentence that there is no exchange, until `make exchange` sets one up
"$VENV/bin/python" -m coursetools.exchange --config-only --keep-existing >/dev/null
touch "$VENV/.installed"
echo "bootstrap: environment ready in $VENV"
