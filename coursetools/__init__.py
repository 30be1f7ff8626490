"""Grading tools for the "Building blocks of a neural network" course.

- `engine/` is what nbgrader loads from nbgrader_config.py, so every grading
  path has it: the sandbox and its kernelspec, execution that keeps earned
  points, the read-back and the recheck on secret inputs, the feedback
  filter.
- What `make grade` adds around nbgrader: `intake` finds, repairs and stages
  each hand-in, `pipeline` drives nbgrader one student at a time, `report`
  turns the gradebook into a table and `scores.csv`, `class_report` writes
  the instructor's page (with `reflection`, which reads the answers to the
  notebook's optional closing questions), and `grade` is the command.
- The lesson: `lesson` holds its numbers, `figures` draws the pictures,
  `demo_students` writes the sample hand-ins.
- Shared: `course` names the paths, `notebooks` reads, normalises and
  compares notebooks.
"""

from coursetools import lean_imports  # noqa: F401,E402  (first: see there)
