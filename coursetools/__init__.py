"""Grading tools for the "Building blocks of a neural network" course.

Each module has one job: `course` names the paths, `lesson` holds the
lesson's numbers, `figures` draws the pictures, `notebooks` normalises and
compares notebooks, `demo_students` writes the sample hand-ins, `intake`
finds, repairs and stages each hand-in, `execution` keeps earned points when
a kernel dies or hangs, `answer_key`, `safe_code`, `recheck` and
`recheck_runner` confirm every graded value outside the student's kernel,
`pipeline` runs nbgrader, `report` turns the gradebook into a table and
`scores.csv`, and `grade` is the command behind `make grade`.
"""
