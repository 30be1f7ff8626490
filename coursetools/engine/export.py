"""Grade exports that a spreadsheet opens as data, never as formulas.

Student ids, names and notes come from hand-ins and rosters. A cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (CSV injection), so such text cells
get a leading apostrophe, as OWASP recommends; numbers are left as numbers.
nbgrader's own CSV export also writes values without quoting, so a comma
or a line break in a name shifts or forges rows: the course's plugin
(`c.ExportApp.plugin_class` in nbgrader_config.py, used by `nbgrader
export` and `make grade`) writes through the `csv` module instead.
"""

import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins import CsvExportPlugin

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
           "raw_score", "late_submission_penalty", "score", "max_score"]


def spreadsheet_safe(value) -> str:
    """A value as CSV text that no spreadsheet evaluates."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)  # as nbgrader writes them: 25.0
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def ordered(students) -> list:
    """nbgrader's order (by last name, then first name), then by id: students graded in parallel
    enter the gradebook in any order, and the export must not depend on it."""
    return sorted(students, key=lambda s: (s.last_name or "", s.first_name or "", s.id))


class SpreadsheetSafeCsvExportPlugin(CsvExportPlugin):
    """nbgrader's CSV export (same columns, same rows), quoted and formula-safe."""

    def export(self, gradebook) -> None:
        destination = self.to or "grades.csv"
        with open(destination, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for assignment in gradebook.assignments:
                if self.assignment and assignment.name not in self.assignment:
                    continue
                for student in ordered(gradebook.students):
                    if self.student and student.id not in self.student:
                        continue
                    writer.writerow([spreadsheet_safe(v) for v in self.row(gradebook, assignment, student)])

    @staticmethod
    def row(gradebook, assignment, student) -> list:
        try:
            submission = gradebook.find_submission(assignment.name, student.id)
        except MissingEntry:  # no hand-in: nbgrader counts it as 0, and so does this export
            timestamp, raw, penalty = None, 0.0, 0.0
        else:
            timestamp, raw, penalty = submission.timestamp, submission.score, submission.late_submission_penalty
        return [assignment.name, assignment.duedate, timestamp, student.id, student.last_name,
                student.first_name, student.email, raw, penalty, max(0.0, raw - penalty), assignment.max_score]
