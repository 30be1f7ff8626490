"""Named submissions for the corpus test: cheats, honest variants, tampering and failures.

Each entry builds a hand-in from the release notebook and states exactly
which checks must score 0 and which status the hand-in must end with.
Every other check must score its full points.
"""

from coursetools import course, notebooks, reflection
from coursetools.engine import answer_key

from corpus_honest import HONEST
from corpus_honest_more import LIMITS, MORE_HONEST
from corpus_tools import (CORRECT, NUMPY_CHECKS, PLAIN_PYTHON, Submission, add_cell, build, cell,  # noqa: F401
                          set_source, with_answer)

def delete_cell(grade_id):
    def change(nb):
        nb.cells = [c for c in nb.cells if notebooks.nbgrader_meta(c).get("grade_id") != grade_id]
    return change


def set_points(grade_id, points):
    def change(nb):
        cell(nb, grade_id).metadata.nbgrader.points = points
    return change


def unflag_check(grade_id):
    def change(nb):
        meta = cell(nb, grade_id).metadata.nbgrader
        meta.grade, meta.locked, meta.checksum = False, False, "0" * 32
    return change


def to_markdown(grade_id):
    def change(nb):
        target = cell(nb, grade_id)
        target.cell_type = "markdown"
        target.pop("outputs", None)
        target.pop("execution_count", None)
    return change


def strip_metadata(grade_id):
    def change(nb):
        cell(nb, grade_id).metadata.pop("nbgrader")
    return change


def invent_check(nb):
    nb.cells.append(notebooks.nbformat.v4.new_code_cell("bonus = True", metadata={"nbgrader": {
        "grade": True, "grade_id": "bonus", "points": 50, "locked": False, "solution": False,
        "schema_version": 3, "task": False}}))


ALWAYS_EQUAL_FLOAT = """class Same(float):
    def __eq__(self, other): return True
    def __sub__(self, other): return Same(0)
    def __abs__(self): return 0.0
    def __float__(self): return 2.3
output = Same(0)"""

ALWAYS_EQUAL_ARRAY = """class Same(np.ndarray):
    def __eq__(self, other): return np.ones(3, dtype=bool)
output = np.zeros(3).view(Same)"""

FAKE_SEQUENCE = """class Fake:
    def __len__(self): return 3
    def __iter__(self): return iter([4.8, 1.21, 2.385])
    def __array__(self, dtype=None, copy=None): return np.array([4.8, 1.21, 2.385])
output = Fake()"""

# Every check from e1_output on, in notebook order
AFTER_E1_OUTPUT = list(answer_key.CHECKS)[list(answer_key.CHECKS).index("e1_output"):]

# What a student who knows how the recheck works might try
OLD_OTHER_INPUTS_RESULT = 2.55  # E1 on the fixed "other inputs" an earlier version of the grader used

# In the rerun only (the inputs are not the lesson's there): write a report line claiming the
# lesson's result into every file descriptor the process has
FORGED_REPORT = """import json, os
output = 2.3
if list(inputs) != [1, 2, 3]:
    line = json.dumps({"check": "e1_output", "value": 2.3}) + "\\n"
    for fd in range(3, 64):
        try:
            os.write(fd, line.encode())
        except OSError:
            pass"""

MALFORMED_REPORTS = """import os
output = sum(x * w for x, w in zip(inputs, weights)) + bias
if list(inputs) != [1, 2, 3]:
    for fd in range(3, 64):
        try:
            os.write(fd, b'{"check": ["x"]}\\n{"cell": true, "error": 1}\\n{"done": "yes"}\\n[1, 2]\\n')
        except OSError:
            pass"""

# Every value the kernel shows as text reads 2.3, the read-back included (it is the kernel's text
# of the value's JSON), and the check in the kernel is fooled too
FORGED_READ_BACK = """import math
shown = get_ipython().display_formatter.formatters["text/plain"]
shown.for_type(str, lambda value, printer, cycle: printer.text(repr("2.3")))
math.isclose = lambda *a, **k: True
output = 0.0"""
# The read-back of old printed the value, so a patched print() forged it; it no longer goes near print
PRINT_FORGERY = """import builtins, math
real_print = builtins.print
def forged_print(*args, **kwargs):
    real_print(*(("2.3",) if args else args), **kwargs)
builtins.print = forged_print
math.isclose = lambda *a, **k: True
output = 0.0"""

# Look for the course's files from wherever the code runs, and reach the real built-ins the way
# an earlier, allowlist-based recheck could be escaped: neither finds anything to use
BUILTINS_ESCAPE = """from pathlib import Path
here = Path.cwd()
leaks = [str(p / name) for p in [here, *here.parents]
         for name in ("gradebook.db", "course_secret.key", "source", "nbgrader_config.py") if (p / name).exists()]
print("found:", leaks)
try:
    import warnings
    real_builtins = warnings.catch_warnings()._module.__builtins__
    real_builtins["exec"]("output = 2.3", globals())
except Exception as error:
    print("no way in:", error)
output = 2.3 if not leaks else -1.0"""

CHEATS = {
    # --- typed-in results: the kernel's checks pass, the secret inputs do not ---------------------
    "literal_output_e1": Submission(with_answer("e1_output_answer", "output = 2.3"), ["e1_output"], flagged=["e1_output"]),
    "literal_outputs_e2": Submission(with_answer("e2_outputs_answer", "outputs = [4.8, 1.21, 2.385]"), ["e2_outputs"],
                                     flagged=["e2_outputs"]),
    "literal_outputs_e3": Submission(with_answer("e3_outputs_answer", "outputs = 4.8"), ["e3_outputs"],
                                     flagged=["e3_outputs"]),
    "literal_array_e4": Submission(with_answer("e4_output_answer", "output = np.array([4.8, 1.21, 2.385])"),
                                   ["e4_output"], flagged=["e4_output"]),
    "literal_via_helper": Submission(with_answer("e1_output_answer", "result = 2.3\noutput = result"), ["e1_output"],
                                     flagged=["e1_output"]),
    # --- the kernel's checks fooled: the read-back compares outside the kernel ------------------------
    "patched_allclose": Submission(with_answer(
        "e4_output_answer", "np.allclose = lambda *a, **k: True\noutput = np.zeros(3)"), ["e4_output"], flagged=["e4_output"]),
    "patched_isclose": Submission(with_answer(
        "e1_output_answer", "import math\nmath.isclose = lambda *a, **k: True\noutput = 0.0"), ["e1_output"],
        flagged=["e1_output"]),
    "patched_builtins_module": Submission(with_answer(
        "e1_output_answer", "import builtins\nbuiltins.all = lambda values: True\noutput = 0.0"), ["e1_output"]),
    "patched_operator": Submission(with_answer(
        "e1_output_answer", "import operator\noperator.eq = lambda a, b: True\noutput = 0.0"), ["e1_output"]),
    "always_equal_float": Submission(with_answer("e1_output_answer", ALWAYS_EQUAL_FLOAT), ["e1_output"]),
    "always_equal_array": Submission(with_answer("e4_output_answer", ALWAYS_EQUAL_ARRAY), ["e4_output"]),
    # `__array__` gives the lesson's values to every reader, so only the secret inputs catch it
    "fake_len_iter_array": Submission(with_answer("e4_output_answer", FAKE_SEQUENCE), ["e4_output"], flagged=["e4_output"]),
    # `all` is what the checks use to compare lists
    "shadowed_all": Submission(with_answer("e1_inputs_answer", "all = lambda values: True\ninputs = [0, 0, 0]"),
                               ["e1_inputs", "e1_output"], flagged=["e1_inputs"]),
    # the check of e3_outputs converts with `float`; the cheat undoes itself before it breaks E4
    "shadowed_builtins": Submission({**with_answer(
        "e3_outputs_answer", "float = lambda value: 4.8\nisinstance = lambda *a: True\noutputs = 0.0"),
        "e4_inputs_answer": "del float, isinstance\ninputs = [1.0, 2.0, 3.0, 2.5]"}, ["e3_outputs"], flagged=["e3_outputs"]),
    "shadowed_more_builtins": Submission({**with_answer(
        "e1_output_answer", "len = lambda x: 3\nabs = lambda x: 0\nround = lambda *a: 0\ntype = lambda x: float\n"
                            "AssertionError = Warning\noutput = 0.0"),
        "e2_inputs_answer": "del len, abs, round, type, AssertionError\ninputs = [1, 2, 3, 2.5]"}, ["e1_output"]),
    # every later cell, checks included, becomes `pass`: nothing after it can be confirmed, except
    # e3_bias, which reads the `bias` E1 left, as it would in an honest notebook with E3 left blank
    "input_transformer": Submission(with_answer(
        "e1_output_answer", "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"),
        [c for c in AFTER_E1_OUTPUT if c != "e3_bias"], flagged=[c for c in AFTER_E1_OUTPUT if c != "e3_bias"]),
    "ast_transformer": Submission(with_answer(
        "e1_output_answer", "import ast\nget_ipython().ast_transformers.append(ast.NodeTransformer())\noutput = 0"),
        ["e1_output"]),
    # a custom handler for failed asserts still leaves the error in the check cell
    "exception_handler": Submission(with_answer(
        "e1_output_answer", "get_ipython().set_custom_exc((AssertionError,), lambda *a, **k: None)\noutput = 0"),
        ["e1_output"]),
    "event_callback": Submission(CORRECT, [], change=add_cell(
        "get_ipython().events.register('pre_run_cell', lambda info: None)")),
    # a value shown under a check, before its error, would be read by nbgrader as partial credit
    "partial_credit_from_a_hook": Submission(with_answer(
        "e1_output_answer", "ip = get_ipython()\nip.events.register('pre_run_cell', lambda info: ip.displayhook(2.0))\n"
                            "output = 0.0"), ["e1_output"]),
    "rewritten_history": Submission(with_answer("e1_output_answer", "In[-1] = ''\nOut.clear()\noutput = 0"),
                                    ["e1_output"]),
    "environment_sniffer": Submission(with_answer(
        "e1_output_answer", "import os\noutput = 2.3 if 'NBGRADER_EXECUTION' in os.environ else 0.0"), ["e1_output"]),
    # the fake module fools e1_output's check; NumPy, already loaded by the read-back, keeps working
    "swapped_math_module": Submission(with_answer(
        "e1_output_answer", "import sys, types\nfake = types.SimpleNamespace(isclose=lambda *a, **k: True)\n"
                            "sys.modules['math'] = fake\noutput = 0.0"),
        ["e1_output"], flagged=["e1_output"]),
    # --- cheats that know the mechanism --------------------------------------------------------------
    "detects_the_recheck_and_exits": Submission(with_answer(
        "e1_output_answer", "output = 2.3\nif list(inputs) != [1, 2, 3]:\n    import os\n    os._exit(0)"),
        ["e1_output"], flagged=["e1_output"]),
    "detects_the_recheck_and_hangs": Submission(with_answer(
        "e1_output_answer", "import signal\noutput = 2.3\nif list(inputs) != [1, 2, 3]:\n"
                            "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    while True:\n        pass"),
        ["e1_output"], flagged=["e1_output"]),
    "detects_the_missing_kernel": Submission(with_answer(
        "e1_output_answer", "output = 2.3 if hasattr(get_ipython(), 'kernel') else None"), ["e1_output"],
        flagged=["e1_output"]),
    "reads_the_pinned_names_and_prints_a_result": Submission(with_answer(
        "e1_output_answer", "print('inputs', inputs, 'weights', weights, 'bias', bias)\nprint('output = 2.3')\n"
                            "output = float('2.3')"), ["e1_output"], flagged=["e1_output"]),
    # the read-back is forged to say 2.3, so every later check reads back wrong; the rerun is not fooled
    "patches_the_read_back": Submission(with_answer("e1_output_answer", FORGED_READ_BACK),
                                        AFTER_E1_OUTPUT, flagged=AFTER_E1_OUTPUT),
    # print() forged: the kernel's check is fooled, the read-back is not, and nothing later is touched
    "patches_print": Submission(with_answer("e1_output_answer", PRINT_FORGERY), ["e1_output"], flagged=["e1_output"]),
    # every later read-back says 10**400, too large for any float: those checks fail, grading goes on
    "huge_read_back": Submission(with_answer("e1_output_answer", FORGED_READ_BACK.replace('"2.3"', '"1" + "0" * 400').replace(
        "output = 0.0", "output = sum(x * w for x, w in zip(inputs, weights)) + bias")),
        AFTER_E1_OUTPUT, flagged=AFTER_E1_OUTPUT),
    # patching `json.dumps` breaks the kernel's own messages: the kernel counts as dead from there on
    "breaks_the_kernel_protocol": Submission(with_answer(
        "e1_output_answer", "import json\njson.dumps = lambda *a, **k: '2.3'\noutput = 2.3"),
        AFTER_E1_OUTPUT, "kernel died"),
    "forges_the_rerun_report": Submission(with_answer("e1_output_answer", FORGED_REPORT), ["e1_output"],
                                          flagged=["e1_output"]),
    # malformed report lines (a list as check id, a bool as cell index) must not stop this student's grading
    "forges_malformed_rerun_reports": Submission(with_answer("e1_output_answer", MALFORMED_REPORTS)),
    "types_in_the_old_answer_key": Submission(with_answer(
        "e1_output_answer", f"output = 2.3 if list(inputs) == [1, 2, 3] else {OLD_OTHER_INPUTS_RESULT}"),
        ["e1_output"], flagged=["e1_output"]),
    "escapes_through_builtins": Submission(with_answer("e1_output_answer", BUILTINS_ESCAPE), ["e1_output"],
                                           flagged=["e1_output"]),
}

TAMPERING = {
    "deleted_check": Submission(CORRECT, [], "tampered and restored", delete_cell("e1_output")),
    "emptied_check_wrong_answer": Submission(with_answer("e1_output_answer", "output = 0"), ["e1_output"],
                                             "tampered and restored", set_source("e1_output", "pass")),
    "unflagged_check_new_checksum": Submission(with_answer("e1_output_answer", "output = 0"), ["e1_output"],
                                               "tampered and restored", unflag_check("e1_output")),
    "raised_points": Submission(CORRECT, [], "tampered and restored", set_points("e1_bias", 100)),
    "check_turned_markdown": Submission(with_answer("e1_output_answer", "output = 0"), ["e1_output"],
                                        "tampered and restored", to_markdown("e1_output")),
    "invented_check": Submission(CORRECT, [], "tampered and restored", invent_check),
    # an answer cell without its marks counts as deleted and retyped: the stub is put back, only noted
    "answer_metadata_stripped": Submission(CORRECT, [], "graded", strip_metadata("e2_bias1_answer")),
    "fresh_start_removed": Submission(PLAIN_PYTHON, NUMPY_CHECKS, "tampered and restored",
                                      set_source("e3_fresh_start", "pass")),
}

def reflection_cell_source(source):
    """The student's own text in the closing questions' cell; None deletes the cell."""
    def change(nb):
        if source is None:
            nb.cells = [c for c in nb.cells if c.get("id") != reflection.CELL_ID]
        else:
            next(c for c in nb.cells if c.get("id") == reflection.CELL_ID).source = source
    return change


# The questions rewritten, with markup, control characters and a direction override in the answers
MANGLED_REFLECTION = ('1. how long did it take: <script>alert(1)</script> 1h30\x1b[31m\n'
                      '2. What was unclear? </td><img src=x onerror=alert(1)> \u202enp.dot')

# The closing questions are the student's: edited or deleted, they cost nothing and are noted nowhere
REFLECTION_EDITS = {
    "reflection_deleted": Submission(CORRECT, change=reflection_cell_source(None)),
    "reflection_mangled": Submission(CORRECT, change=reflection_cell_source(MANGLED_REFLECTION)),
}

FAILURES = {
    "kernel_exits_in_e3": Submission(with_answer("e3_numpy_answer", "import os\nos._exit(1)", PLAIN_PYTHON),
                                     NUMPY_CHECKS, "kernel died"),
    "segfault_in_e4": Submission(with_answer("e4_output_answer", "import ctypes\nctypes.string_at(0)"),
                                 ["e4_output"], "kernel died"),
    "memory_error_in_e1": Submission(with_answer("e1_output_answer", "waste = [0] * (10 ** 11)\noutput = 2.3"),
                                     ["e1_output"]),
    "endless_loop_in_e2": Submission(with_answer("e2_outputs_answer", "while True:\n    pass"),
                                     ["e2_outputs", *NUMPY_CHECKS], "timed out"),
    "ignores_interrupt_in_e4": Submission(with_answer(
        "e4_output_answer", "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                            "while True:\n    time.sleep(0.1)"), ["e4_output"], "timed out"),
}

HONEST = {**HONEST, **MORE_HONEST}
CORPUS = {**CHEATS, **HONEST, **LIMITS, **TAMPERING, **REFLECTION_EDITS, **FAILURES}


# Short enough to keep the suite fast, long enough for any honest cell of the corpus
SAMPLE_CONFIG = "c.Execute.timeout = 4\nc.Recheck.timeout = 30\n"


def course_with_sample(folder, names):
    """A fresh course copy with the demo students and the named corpus cases handed in."""
    root = course.copy_course(folder / "course")
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write("\n" + SAMPLE_CONFIG)
    release = notebooks.read(course.release_notebook(root))
    for name in names:
        notebooks.write(build(release, CORPUS[name]), course.submitted_notebook(root, name))
    return root
