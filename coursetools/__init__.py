"""Grading tools for the "Building blocks of a neural network" course.

Each module has one job: `course` names the paths, `lesson` holds the
lesson's numbers, `figures` draws the pictures, `notebooks` compares
notebooks structurally, `demo_students` writes the sample hand-ins,
`pipeline` runs nbgrader and `report` turns the gradebook into a table.
"""
