"""The lesson's numbers, in one place.

Every value here is taken from the lesson document unchanged. The figures,
the demo students and the tests read them from here, so a figure can never
show a number that the exercises do not use.
"""

# E1: one neuron with three inputs, plain Python
E1_INPUTS = [1, 2, 3]
E1_WEIGHTS = [0.2, 0.8, -0.5]
E1_BIAS = 2
E1_OUTPUT = 2.3

# E2: a layer of three neurons on four inputs, plain Python
E2_INPUTS = [1, 2, 3, 2.5]
E2_WEIGHTS1 = [0.2, 0.8, -0.5, 1]
E2_WEIGHTS2 = [0.5, -0.91, 0.26, -0.5]
E2_WEIGHTS3 = [-0.26, -0.27, 0.17, 0.87]
E2_BIAS1 = 2
E2_BIAS2 = 3
E2_BIAS3 = 0.5
E2_OUTPUTS = [4.8, 1.21, 2.385]

# E3: one neuron with four inputs, NumPy
E3_INPUTS = [1, 2, 3, 2.5]
E3_WEIGHTS = [0.2, 0.8, -0.5, 1.0]
E3_BIAS = 2
E3_OUTPUTS = 4.8

# E4: the same layer as E2, NumPy
E4_INPUTS = [1.0, 2.0, 3.0, 2.5]
E4_WEIGHTS = [E2_WEIGHTS1, E2_WEIGHTS2, E2_WEIGHTS3]
E4_BIASES = [2.0, 3.0, 0.5]
E4_OUTPUT = [4.8, 1.21, 2.385]

# What the lesson document shows as printed output, cell by cell, in order
EXPECTED_PRINTS = [
    "[1, 2, 3]",
    "[0.2, 0.8, -0.5]",
    "2.3",
    "[4.8, 1.21, 2.385]",
    "4.8",
    "[1.0, 2.0, 3.0, 2.5]",
    "[[0.2, 0.8, -0.5, 1], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]]",
    "[2.0, 3.0, 0.5]",
    "[4.8 1.21 2.385]",
]
