"""Leave out an import that costs every grading process most of a second and serves it nothing.

`jsonschema` (which nbformat and nbgrader import) loads `rfc3987_syntax` when
it is installed, as it is here (jupyter-events, for the formgrader, asks for
it), only to check the `iri` string format; that module builds a grammar as
it loads: 0.8 s of CPU, in the driver and in every grading worker. Nothing in
grading checks that format (nbformat validates with fastjsonschema, nbgrader's
metadata schema has no such format), so grading processes go without it:
jsonschema treats the module as not installed. Imported by `coursetools`
itself, before anything else loads jsonschema; the formgrader, started by
Jupyter, keeps it.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)
