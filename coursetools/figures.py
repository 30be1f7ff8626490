"""Draw the lesson's figures as PNG files.

Every number a figure shows is read from `coursetools.lesson`, and every
output is computed here from those inputs, weights and biases, so a figure
can never disagree with the exercises. The files are byte-for-byte
reproducible: fixed size and resolution, and no software version or
timestamp in the PNG metadata.

Usage: python -m coursetools.figures [--out DIR]
"""

import argparse
import math
import pathlib

import matplotlib
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, FancyBboxPatch

from coursetools import lesson

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

REPOSITORY_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR = REPOSITORY_ROOT / "source" / "building_blocks" / "figures"

DPI = 100
# One data unit is 50 pixels in every figure, so sizes below read alike.
PIXELS_PER_UNIT = 50

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
BLUE = "#0072B2"
SKY_BLUE = "#56B4E9"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
INK = "#222222"
NODE_FILL = "#F4F4F4"
NEURON_COLOURS = [BLUE, VERMILLION, GREEN]

TITLE_SIZE = 15
LABEL_SIZE = 13
SMALL_SIZE = 11


def neuron_output(inputs, weights, bias):
    """What one neuron computes: the weighted sum of its inputs plus its bias."""
    return sum(x * w for x, w in zip(inputs, weights)) + bias


def checked_output(inputs, weights, bias, expected):
    """The neuron's output, refusing to draw one that the lesson does not state."""
    value = neuron_output(inputs, weights, bias)
    assert math.isclose(value, expected), f"computed {value}, lesson says {expected}"
    return value


def format_number(value):
    return f"{value:g}"


def format_vector(values):
    return "[" + ", ".join(format_number(v) for v in values) + "]"


def subscript(index):
    return str(index).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def new_canvas(width_units, height_units):
    """A blank figure whose data coordinates run from (0, 0) to the given size."""
    fig = plt.figure(
        figsize=(width_units * PIXELS_PER_UNIT / DPI, height_units * PIXELS_PER_UNIT / DPI),
        dpi=DPI,
    )
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_units)
    ax.set_ylim(0, height_units)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def draw_box(ax, centre, size, text, edge_colour):
    """A rounded box of a fixed size with centred text; returns its (left, right) x."""
    (x, y), (width, height) = centre, size
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0,rounding_size=0.2",
            facecolor="white",
            edgecolor=edge_colour,
            linewidth=1.8,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=LABEL_SIZE, color=INK)
    return x - width / 2, x + width / 2


def draw_neuron(ax, centre, radius, colour, text, font_size=LABEL_SIZE):
    ax.add_patch(Circle(centre, radius, facecolor=NODE_FILL, edgecolor=colour, linewidth=2.5))
    ax.text(*centre, text, ha="center", va="center", fontsize=font_size, color=INK)


def draw_arrow(ax, start, end, colour):
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>,head_length=0.6,head_width=0.3",
            mutation_scale=20,
            color=colour,
            linewidth=1.8,
            shrinkA=0,
            shrinkB=0,
        )
    )


def point_on_circle(centre, radius, towards):
    """Where the line from a circle's centre to `towards` crosses the circle."""
    dx, dy = towards[0] - centre[0], towards[1] - centre[1]
    distance = math.hypot(dx, dy)
    return centre[0] + dx * radius / distance, centre[1] + dy * radius / distance


def point_along(start, end, fraction):
    return start[0] + (end[0] - start[0]) * fraction, start[1] + (end[1] - start[1]) * fraction


def draw_ai_ml_dl():
    """Deep learning inside machine learning inside artificial intelligence."""
    fig, ax = new_canvas(16, 9)
    centre = (8, 4.5)
    rings = [
        ((15.3, 8.5), "#D6EBF8", SKY_BLUE),
        ((10.8, 5.7), "#FBE6B8", ORANGE),
        ((6.4, 2.8), "#BFE6D9", GREEN),
    ]
    for (width, height), fill, edge in rings:
        ax.add_patch(Ellipse(centre, width, height, facecolor=fill, edgecolor=edge, linewidth=2.5))
    labels = [
        (8.0, "Artificial intelligence", "computers that reason"),
        (6.55, "Machine learning", "computers that learn from data"),
        (4.50, "Deep learning", "neural networks with many layers"),
    ]
    for y, name, meaning in labels:
        draw_ring_label(ax, (centre[0], y), name, meaning)
    return fig


def draw_ring_label(ax, position, name, meaning):
    x, y = position
    ax.text(x, y + 0.22, name, ha="center", va="center", fontsize=TITLE_SIZE, weight="bold", color=INK)
    ax.text(x, y - 0.3, meaning, ha="center", va="center", fontsize=SMALL_SIZE, color=INK)


def draw_single_neuron():
    """Exercise E1: three inputs, their weights and a bias make one output."""
    fig, ax = new_canvas(16, 9)
    neuron, radius = (8.6, 4.2), 1.6
    output = checked_output(lesson.E1_INPUTS, lesson.E1_WEIGHTS, lesson.E1_BIAS, lesson.E1_OUTPUT)
    input_heights = [7.0, 4.2, 1.4]
    for index, (y, x_value, weight) in enumerate(zip(input_heights, lesson.E1_INPUTS, lesson.E1_WEIGHTS)):
        draw_weighted_input(ax, (1.8, y), index, x_value, weight, neuron, radius)
    draw_bias(ax, neuron, radius, lesson.E1_BIAS)
    draw_neuron(ax, neuron, radius, BLUE, "Σ xᵢ·wᵢ + b", font_size=TITLE_SIZE)
    output_left, _ = draw_box(ax, (14.2, neuron[1]), (2.8, 1.0), f"output = {format_number(output)}", BLUE)
    draw_arrow(ax, (neuron[0] + radius, neuron[1]), (output_left, neuron[1]), INK)
    return fig


def draw_weighted_input(ax, centre, index, x_value, weight, neuron, radius):
    """An input node, its arrow into the neuron, and the weight on that arrow."""
    _, box_right = draw_box(ax, centre, (2.6, 1.0), f"x{subscript(index)} = {format_number(x_value)}", INK)
    start = (box_right, centre[1])
    end = point_on_circle(neuron, radius, start)
    draw_arrow(ax, start, end, INK)
    ax.text(
        *point_along(start, end, 0.45),
        f"w{subscript(index)} = {format_number(weight)}",
        ha="center",
        va="center",
        fontsize=LABEL_SIZE,
        color=BLUE,
        bbox=dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor="none"),
    )


def draw_bias(ax, neuron, radius, bias):
    top = (neuron[0], neuron[1] + radius)
    draw_arrow(ax, (top[0], top[1] + 1.6), top, VERMILLION)
    ax.text(
        top[0],
        top[1] + 2.05,
        f"b = {format_number(bias)}",
        ha="center",
        va="center",
        fontsize=LABEL_SIZE,
        color=VERMILLION,
    )


def draw_layer_of_three():
    """Exercise E2: every one of four inputs feeds each of three neurons."""
    fig, ax = new_canvas(20, 12)
    input_nodes = [(1.8, y) for y in (10.2, 7.4, 4.6, 1.8)]
    neuron_nodes = [(8.0, y) for y in (9.4, 5.9, 2.4)]
    radius = 0.75
    weights = [lesson.E2_WEIGHTS1, lesson.E2_WEIGHTS2, lesson.E2_WEIGHTS3]
    biases = [lesson.E2_BIAS1, lesson.E2_BIAS2, lesson.E2_BIAS3]
    input_right_edges = []
    for index, (centre, value) in enumerate(zip(input_nodes, lesson.E2_INPUTS)):
        _, right = draw_box(ax, centre, (2.6, 1.0), f"x{subscript(index)} = {format_number(value)}", INK)
        input_right_edges.append((right, centre[1]))
    for number, (neuron, neuron_weights, bias, expected, colour) in enumerate(
        zip(neuron_nodes, weights, biases, lesson.E2_OUTPUTS, NEURON_COLOURS), start=1
    ):
        output = checked_output(lesson.E2_INPUTS, neuron_weights, bias, expected)
        connect_inputs(ax, input_right_edges, neuron, radius, colour)
        draw_neuron(ax, neuron, radius, colour, str(number))
        draw_parameter_box(ax, neuron, radius, number, neuron_weights, bias, colour)
        output_left, _ = draw_box(ax, (17.8, neuron[1]), (2.0, 1.0), format_number(output), colour)
        draw_arrow(ax, (neuron[0] + radius, neuron[1]), (output_left, neuron[1]), colour)
    draw_column_headings(ax, [(1.8, "inputs"), (8.0, "neurons"), (17.8, "outputs")])
    return fig


def connect_inputs(ax, input_points, neuron, radius, colour):
    for start in input_points:
        end = point_on_circle(neuron, radius, start)
        ax.plot([start[0], end[0]], [start[1], end[1]], color=colour, linewidth=1.5, zorder=0.5)


def draw_parameter_box(ax, neuron, radius, number, weights, bias, colour):
    """The neuron's weights and bias, above its output arrow instead of on all 12 lines."""
    ax.text(
        neuron[0] + radius + 0.5,
        neuron[1] + 0.35,
        f"neuron {number}\nweights = {format_vector(weights)}\nbias = {format_number(bias)}",
        ha="left",
        va="bottom",
        fontsize=SMALL_SIZE,
        color=INK,
        linespacing=1.4,
        bbox=dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor=colour, linewidth=1.5, zorder=0.5),
    )


def draw_column_headings(ax, headings):
    for x, text in headings:
        ax.text(x, 0.45, text, ha="center", va="center", fontsize=LABEL_SIZE, style="italic", color=INK)


FIGURES = {
    "ai_ml_dl.png": draw_ai_ml_dl,
    "single_neuron.png": draw_single_neuron,
    "layer_of_three.png": draw_layer_of_three,
}


def save_figure(fig, path):
    # Without a Software entry the PNG holds no version string, so it is reproducible.
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)


def draw_all(out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Write every figure into `out_dir` and return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in FIGURES.items():
        path = out_dir / name
        save_figure(draw(), path)
        written.append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description="Draw the lesson's figures as PNG files.")
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=DEFAULT_OUT_DIR,
        help=f"directory to write into (default: {DEFAULT_OUT_DIR.relative_to(REPOSITORY_ROOT)})",
    )
    args = parser.parse_args(argv)
    for path in draw_all(args.out):
        print(path)


if __name__ == "__main__":
    main()
