"""The closing reflection: two optional, ungraded questions at the end of the notebook, and their answers.

The questions sit in a plain markdown cell with the cell id `reflection`
and no nbgrader marks, so nbgrader hands it out as it is and leaves the
student's edits alone when it grades. Each question has a line of its own,
followed by a "Your answer:" line the student types after.

Answers are read from a graded notebook as data, compared with the
release's cell: whatever the release already says (the introduction, the
questions, the empty answer lines) is no answer, so an untouched cell
answers nothing. A student may type on the question's line, replace the
answer line, remove the bold, shorten a question, split the cell or delete
it; what cannot be placed under either question is kept as written
"elsewhere" rather than lost.

`minutes` reads the answer about time taken ("40 minutes", "1.5 h",
"about an hour", "1h30", "45") as a number of minutes.
"""

import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from coursetools import course, notebooks

CELL_ID = "reflection"
# The questions as the notebook asks them
TIME_QUESTION = "How long did this notebook take you?"
UNCLEAR_QUESTION = "What was unclear, if anything?"
ANSWER_LABEL = "Your answer:"

# A hand-in can hold megabytes in the cell: only this much of it is read, line by line
MAX_LINES = 200
MAX_LINE_LENGTH = 2000
# An answer is kept up to this length; the report shows less
MAX_ANSWER_LENGTH = 2000

# Markdown a student may add or remove around a line without changing what it says
MARKUP = r"[\s*_#>`\-]*"
# Markup, then perhaps a list number and more markup; one way only to match, so a long line fails fast
LEADING_MARKUP = rf"{MARKUP}(?:\d+[.)]{MARKUP})?"


@dataclass(frozen=True)
class Answers:
    time_taken: str = ""
    unclear: str = ""
    elsewhere: str = ""  # text in the cell under neither question

    @property
    def given(self) -> bool:
        return bool(self.time_taken or self.unclear or self.elsewhere)


def question_pattern(opening: str) -> re.Pattern:
    """A line that starts with a question's opening words, whatever markdown, case or list number
    surrounds them, then perhaps the rest of the question up to its "?" or ":"; what follows on
    that line is an answer. The opening alone is enough, so a shortened question still counts."""
    words = r"[\s*_,]+".join(opening.lower().split())
    return re.compile(rf"^{LEADING_MARKUP}{words}\b(?:[^?:\n]{{0,40}}[?:])?[\s*_?:]*", re.IGNORECASE)


# Each question's opening words: the rest of the question may be shortened or reworded
QUESTIONS = {"time_taken": question_pattern("how long did"), "unclear": question_pattern("what was unclear")}
LABEL = re.compile(rf"^{MARKUP}your[\s*_]+answer[\s*_]*:?[\s*_]*", re.IGNORECASE)


def comparable(line: str) -> str:
    """A line as compared with the release's: without markup, case or extra spaces."""
    return " ".join(re.sub(r"[*_#>`]", " ", line).split()).casefold()


def cells_of(nb) -> list:
    """The cells that hold the reflection: the one with its id, and any other text cell that carries
    one of its questions (a split or copied cell, or one whose id an editor changed)."""
    found = []
    for cell in getattr(nb, "cells", None) or []:
        if not isinstance(cell, dict):
            continue
        text = notebooks.as_text(cell.get("source"))
        if cell.get("id") == CELL_ID or (cell.get("cell_type") != "code" and holds_a_question(text)):
            found.append(text)
    return found


def holds_a_question(text: str) -> bool:
    return any(pattern.match(line) for line in bounded_lines(text) for pattern in QUESTIONS.values())


def bounded_lines(text: str) -> list[str]:
    return [line[:MAX_LINE_LENGTH] for line in text.splitlines()[:MAX_LINES]]


def release_text(root: Path) -> str | None:
    """The reflection cell as handed out, or None when the release has none (or no release is there)."""
    try:
        release = notebooks.read(course.release_notebook(root))
    except (OSError, ValueError):
        return None
    cells = cells_of(release)
    return "\n".join(cells) if cells else None


def read_answers(text: str, release: str) -> Answers:
    """The answers in a reflection cell's text: each question's, and any text under neither."""
    handed_out = {comparable(line) for line in release.splitlines()}
    parts = {"time_taken": [], "unclear": [], "elsewhere": []}
    current = "elsewhere"
    for line in bounded_lines(text):
        question = next(((name, match) for name, pattern in QUESTIONS.items() if (match := pattern.match(line))), None)
        if question:
            current, match = question
            line = line[match.end():]
        elif comparable(line) in handed_out:
            continue
        answer = LABEL.sub("", line, count=1).strip()
        if answer and comparable(answer) not in handed_out:
            parts[current].append(answer)
    return Answers(**{name: "\n".join(lines)[:MAX_ANSWER_LENGTH] for name, lines in parts.items()})


def answers_of(nb, release: str) -> Answers:
    """A notebook's answers; none when the student deleted the cell."""
    return read_answers("\n".join(cells_of(nb)), release)


def answered(release: str, time_taken: str = "", unclear: str = "") -> str:
    """The reflection cell's text with answers typed after each question's answer label, as a student
    would type them (the demo hand-ins and the tests write theirs this way)."""
    given = {"time_taken": time_taken, "unclear": unclear}
    lines, current = [], None
    for line in release.splitlines():
        current = next((name for name, pattern in QUESTIONS.items() if pattern.match(line)), current)
        if line.strip() == ANSWER_LABEL and current and given[current]:
            line = f"{ANSWER_LABEL} {given[current]}"
        lines.append(line)
    return "\n".join(lines)


# --- Time taken ---------------------------------------------------------------------------------

# An answer longer than this is a sentence about the time, not a time
MAX_TIME_TEXT = 120
# A longer time is a joke or a typo, not the time the notebook took
MAX_MINUTES = 24 * 60
# A bare number below this is hours ("2", "1.5"), from it on minutes ("45", "90")
BARE_HOURS_BELOW = 10

UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
NUMBER_WORDS = {**{word: value for value, word in enumerate(UNITS, start=1)},
                "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
                "fourty": 40, "fifty": 50, "sixty": 60, "ninety": 90}
TENS = r"(twenty|thirty|forty|fourty|fifty)"
NUMBER = r"(?:\d+(?:\.\d+)?|\.\d+)"  # "1", "1.5", ".5"
HOURS = r"(?:hours?|hrs?|h)"
MINUTES = r"(?:minutes?|mins?|m)"
RANGE = r"\s*(?:-|–|—|to|or)\s*"
# "40 minutes", "1.5 h", "40-50 min": a number or a range, then its unit (not the start of a longer word)
DURATION = re.compile(rf"({NUMBER})(?:{RANGE}({NUMBER}))?\s*({HOURS}|{MINUTES})(?![a-z])")
# "1h30", "1 hour 30": the number after the hours is minutes
HOURS_THEN_MINUTES = re.compile(rf"(\d+)\s*{HOURS}\s*(?:and\s+)?(\d{{1,2}})(?![.\d])(?!\s*(?:{HOURS}|{MINUTES})(?![a-z]))")
BARE = re.compile(rf"({NUMBER})(?:{RANGE}({NUMBER}))?")
FILLER = re.compile(r"\b(?:about|around|approx(?:imately)?|roughly|maybe|perhaps|circa|ca|almost|nearly|"
                    r"just|only|under|over|less than|more than|it took|took|me|i think|probably)\b|[~≈±?!,:;()]")

PHRASES = [  # read before the numbers: each names a time in words
    (r"\b3\s+quarters\s+of\s+an\s+hour\b", "45 min"),
    (r"\b(?:an?|1)\s+hour\s+and\s+a\s+half\b", "90 min"),
    (r"\b(?:an?|1)\s+hour\s+and\s+a\s+quarter\b", "75 min"),
    (r"\b(?:an?|1)\s+hour\s+or\s+2\b", "90 min"),
    (rf"({NUMBER})\s*{HOURS}\s+and\s+a\s+half\b", lambda m: f"{float(m[1]) + 0.5} h"),
    (r"(\d+)\s+and\s+a\s+half\b", lambda m: f"{m[1]}.5"),
    (r"\b(?:a\s+)?half(?:\s+an|\s+of\s+an)?[\s-]+hour\b", "30 min"),
    (r"\b(?:a\s+)?quarter(?:\s+of)?(?:\s+an)?[\s-]+hour\b", "15 min"),
    (r"\ban?\s+hour\b", "1 hour"),
    (r"\ba\s+couple(?:\s+of)?\s+hours\b", "2 hours"),
]


VULGAR_FRACTIONS = {"½": ".5", "¼": ".25", "¾": ".75"}
FRACTION = r"([13])/([24])"  # 1/2, 1/4, 3/4: a part of an hour; "30/40" reads as a range


def fractions_as_decimals(text: str) -> str:
    """"1 1/2 hours" and "1½ h" as 1.5, "half" forms aside; "30/40 min" as the range 30-40.

    A slash left over after this is not a time the parser knows, and the
    answer is left unread rather than misread (`minutes`).
    """
    for fraction, decimal in VULGAR_FRACTIONS.items():
        text = text.replace(fraction, decimal)
    text = re.sub(rf"(\d+)\s+(?:and\s+)?{FRACTION}(?![\d/])", lambda m: str(int(m[1]) + int(m[2]) / int(m[3])), text)
    text = re.sub(rf"(?<![\d.]){FRACTION}(?![\d/])", lambda m: str(int(m[1]) / int(m[2]))[1:], text)
    text = re.sub(r"(\d+)\s+(?:and\s+)?(\.\d+)", lambda m: str(int(m[1]) + float(m[2])), text)  # "1 ½" is 1.5
    text = re.sub(rf"({NUMBER})\s+of\s+(?:an?\s+|1\s+)?hour\b", r"\1 h", text)  # "3/4 of an hour"
    return re.sub(r"(\d{2,})\s*/\s*(\d{2,})", r"\1-\2", text)  # "30/40": minutes either way; "2/3" stays unread


def hours_and_a_part(text: str) -> str:
    """"1 hour .5", from "1 hour 1/2" or "an hour and 3/4": the part after the hours is a part of an hour."""
    return re.sub(rf"({NUMBER})\s*{HOURS}\s+(?:and\s+)?(\.\d+)(?![\d.])(?!\s*(?:{HOURS}|{MINUTES})(?![a-z]))",
                  lambda m: f"{float(m[1]) + float(m[2])} h", text)


def clock_range(match: re.Match) -> str:
    """"10:00-11:30" is the 90 minutes between the two times."""
    start, end = int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])
    return f"{end - start} min" if end > start else match[0]


def numbers_in_digits(text: str) -> str:
    text = re.sub(rf"\b{TENS}[\s-]+({'|'.join(UNITS)})\b",
                  lambda m: str(NUMBER_WORDS[m[1]] + NUMBER_WORDS[m[2]]), text)
    text = re.sub(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", lambda m: str(NUMBER_WORDS[m[1]]), text)
    return re.sub(r"(\d),(\d)", r"\1.\2", text)  # "1,5 h": a decimal comma


def in_minutes(match: re.Match) -> float:
    """A duration's minutes; a range counts as its middle."""
    values = [float(value) for value in (match[1], match[2]) if value is not None]
    return sum(values) / len(values) * (60 if match[3].startswith("h") else 1)


def durations(text: str) -> float | None:
    """The sum of the times named with a unit ("1 h 30 min"); two joined by "to" or "-" are a range
    ("40 min to 1 h"), read as its middle."""
    total, previous, found = 0.0, None, False
    for match in DURATION.finditer(text):
        value = in_minutes(match)
        if previous is not None and re.fullmatch(RANGE, text[previous.end():match.start()]):
            total += (value - in_minutes(previous)) / 2
        else:
            total += value
        previous, found = match, True
    return total if found else None


def bare_number(text: str) -> float | None:
    """A number with no unit at all ("45", "2", "40-50"): minutes, or hours when it is small."""
    match = BARE.fullmatch(" ".join(FILLER.sub(" ", text).split()).rstrip("."))
    if not match:
        return None
    values = [float(v) for v in match.groups() if v is not None]
    value = sum(values) / len(values)
    return value * 60 if value < BARE_HOURS_BELOW else value


def minutes(answer: str) -> int | None:
    """The time an answer names, in minutes; None when it does not read as a time."""
    text = one_line(answer, MAX_TIME_TEXT + 1).casefold()
    if not text or len(text) > MAX_TIME_TEXT:
        return None
    text = re.sub(r"\([^)]*\)", " ", text)  # "90 min (1.5 h)": a time restated in brackets is the same time
    if UNKNOWN.search(text):
        return None
    text = fractions_as_decimals(numbers_in_digits(text))
    text = re.sub(rf"\bbetween\s+({NUMBER})\s+and\s+({NUMBER})", r"\1-\2", text)
    if "/" in text:
        return None
    for pattern, replacement in PHRASES:
        text = re.sub(pattern, replacement, text)
    text = hours_and_a_part(re.sub(r"\b(hrs?|mins?|h|m)\.", r"\1", text))  # "1 hr. 30"
    text = re.sub(r"\b(\d{1,2}):([0-5]\d)\s*(?:-|–|—|to)\s*(\d{1,2}):([0-5]\d)\b", clock_range, text)
    text = re.sub(r"\b(\d{1,2}):([0-5]\d)\b", r"\1 h \2 min", text)  # "1:30"
    text = re.sub(HOURS_THEN_MINUTES, r"\1 h \2 min", text)
    found = range_of_sums(text)
    if found is None:
        found = durations(text)
    if found is None:
        found = bare_number(text)
    if found is None or not 0 < found <= MAX_MINUTES:
        return None
    return math.floor(found + 0.5)  # halves up: "1h15-1h30" is 83 min


# Units the parser does not read, and "2x45 min": such an answer is left unread rather than misread
UNKNOWN = re.compile(r"\b(?:days?|weeks?|seconds?|secs?)\b|\d\s*[x×*]\s*\d")
# Two times joined as a range, each with its units: "1h15-1h30", "40 min to 1 h"
RANGE_OF_SUMS = re.compile(r"\s*(?:-|–|—|\bto\b)\s*")


def range_of_sums(text: str) -> float | None:
    """The middle of a range whose two ends each name their units ("1 h 15 min - 1 h 30 min"); None
    when the text is not two such ends."""
    ends = RANGE_OF_SUMS.split(text)
    if len(ends) != 2 or not all(DURATION.search(end) for end in ends):
        return None
    low, high = durations(ends[0]), durations(ends[1])
    return (low + high) / 2


# --- The class's answers together -----------------------------------------------------------------

# Bands of time taken: a label, and the minutes from (included) and to (excluded)
BANDS = (("under 30 min", 0, 30), ("30 min to under 1 h", 30, 60), ("1 h to under 2 h", 60, 120),
         ("2 h or more", 120, None))
# The report shows each answer on one line, up to this long
SHOWN_LENGTH = 200


@dataclass(frozen=True)
class Summary:
    """What a class answered, with nothing that says who: counts, sorted times and tallied texts."""
    hand_ins: int
    answered: int
    times: tuple[int, ...]  # minutes, sorted
    unreadable_times: int
    unclear: tuple[tuple[str, int], ...]  # (answer, how many gave it), most given first
    elsewhere: tuple[tuple[str, int], ...]

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def bands(self) -> list[tuple[str, int]]:
        return [(label, sum(low <= t and (high is None or t < high) for t in self.times)) for label, low, high in BANDS]


def one_line(text: str, limit: int = SHOWN_LENGTH) -> str:
    """Text on one line, without control or formatting characters, cut to `limit` characters."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text[:limit * 4]).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def tally(texts) -> tuple[tuple[str, int], ...]:
    """Each different answer once, with how many gave it; the most given first, then alphabetically,
    so the order says nothing of who wrote what. Answers that differ only in case, spacing or a
    closing full stop count as one, shown in the spelling that sorts first."""
    spellings: dict[str, list[str]] = {}
    for text in texts:
        shown = one_line(text)
        if shown:
            spellings.setdefault(shown.casefold().rstrip(".! "), []).append(shown)
    counted = [(min(shown), len(shown)) for shown in spellings.values()]
    return tuple(sorted(counted, key=lambda pair: (-pair[1], pair[0].casefold(), pair[0])))


def summarise(answers: list[Answers], hand_ins: int) -> Summary:
    """The answers of `hand_ins` graded hand-ins (`answers` holds those that could be read)."""
    times = [minutes(a.time_taken) for a in answers if a.time_taken]
    return Summary(hand_ins=hand_ins, answered=sum(a.given for a in answers),
                   times=tuple(sorted(t for t in times if t is not None)),
                   unreadable_times=sum(t is None for t in times),
                   unclear=tally(a.unclear for a in answers), elsewhere=tally(a.elsewhere for a in answers))


def duration(minutes_taken: float) -> str:
    """Minutes as a person says them: "45 min", "1 h", "1 h 30 min"."""
    whole = round(minutes_taken)
    hours, rest = divmod(whole, 60)
    if not hours:
        return f"{whole} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")
