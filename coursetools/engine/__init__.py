"""The grading engine: everything nbgrader loads from nbgrader_config.py.

Because these pieces live in nbgrader's own configuration, every way of
grading gets them: `make grade`, `nbgrader autograde`, `nbgrader
generate_feedback` and the formgrader's buttons.

- `sandbox` builds the bubblewrap sandbox; `sandbox_kernel` is the
  `course-sandbox` kernelspec that runs each hand-in inside it, where
  `kernel_boot` forks the kernel and keeps a pristine copy for the rerun;
  `kernel_manager` reaches the kernel from outside, `kept_sandbox` holds
  the sandbox past the kernel for the rerun, and `warm_kernel` starts the
  kernel while nbgrader does its bookkeeping;
- `execute` runs the hand-in, keeps earned points when a kernel dies or
  hangs, and reads every checked value back, and each computed result after
  its answer cell, which `computed_values` records for the report;
- `answer_key`, `secret_inputs`, `recheck` and `recheck_runner` confirm each
  passing check outside the kernel and on secret inputs, and fail and flag
  the checks they cannot confirm;
- `feedback` keeps hidden tests, instructor notes and network references out
  of the feedback pages.
"""
