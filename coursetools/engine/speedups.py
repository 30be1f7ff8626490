"""nbgrader's per-student set-up, done once per grading worker instead of once per use.

A grading worker (`coursetools.handin_job`) grades many hand-ins against
one gradebook and one release. nbgrader, written for one command per
batch, repeats work on every use that gives the same answer every time:

- every `Gradebook(...)` (about ten per hand-in) builds a new database
  engine, lists the tables, runs CREATE TABLE IF NOT EXISTS for each and
  looks up the course. The worker keeps one engine per database and does
  the set-up on the first use only; each use still gets its own session.
- every cell's nbgrader metadata is checked against the schema with
  `jsonschema.validate`, which first checks the schema itself against the
  JSON Schema meta-schema. The worker builds the checker once per schema.

Both give nbgrader's own results: the same queries, the same checks, the
same errors. They are installed in grading workers only, never in the
formgrader, where an instructor may delete and recreate the gradebook
while the server runs.
"""

import functools
import json

import jsonschema
from jsonschema.exceptions import best_match
from nbgrader import api
from nbgrader.nbgraderformat import common
from sqlalchemy.orm import scoped_session, sessionmaker

_engines: dict[str, object] = {}
_set_up: set[tuple] = set()
_installed = False


@functools.lru_cache(maxsize=8)
def _checker(schema_text: str):
    schema = json.loads(schema_text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class _CheckerCache:
    """Stands in for the `jsonschema` module inside nbgrader's metadata validator."""

    ValidationError = jsonschema.ValidationError

    @staticmethod
    def validate(instance, schema) -> None:
        error = best_match(_checker(json.dumps(schema, sort_keys=True)).iter_errors(instance))
        if error is not None:
            raise error


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    common.jsonschema = _CheckerCache
    original_init, original_close = api.Gradebook.__init__, api.Gradebook.close

    def __init__(self, db_url, course_id="default_course", authenticator=None):
        if (db_url, course_id) not in _set_up:
            original_init(self, db_url, course_id, authenticator)
            _engines.setdefault(db_url, self.engine)
            _set_up.add((db_url, course_id))
            self._shared_engine = self.engine is _engines[db_url]
            return
        self.engine = _engines[db_url]
        self.db = scoped_session(sessionmaker(autoflush=True, bind=self.engine, future=True))
        self.course_id, self.authenticator, self._shared_engine = course_id, authenticator, True

    def close(self):
        if getattr(self, "_shared_engine", False):
            self.db.remove()  # the connection goes back to the worker's pool, for the next use
        else:
            original_close(self)

    api.Gradebook.__init__ = __init__
    api.Gradebook.close = close
