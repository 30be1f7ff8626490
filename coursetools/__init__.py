"""Grading tools for the "Building blocks of a neural network" course.

Each module has one job: `course` names the paths, `lesson` holds the
lesson's numbers, `figures` draws the pictures, `notebooks` normalises and
compares notebooks, `demo_students` writes the sample hand-ins, `intake`
finds and stages each hand-in, `execution` keeps earned points when a kernel
dies or hangs, `pipeline` runs nbgrader, `report` turns the gradebook into a
table and `scores.csv`, and `grade` is the command behind `make grade`.
"""
