"""nbgrader settings for the "Building blocks of a neural network" course.

nbgrader reads this file only from the current directory, so every command
runs from the course root (the Makefile and `coursetools` see to that).
"""
import os

from jupyter_core.paths import jupyter_runtime_dir

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

# Paths are anchored on this file, not on the current directory, so a copy of
# the course (the tests grade one in a temporary folder) is self-contained.
COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "nn-building-blocks"
c.CourseDirectory.root = COURSE_ROOT
# The gradebook stores the hidden tests: it lives at the root, is git-ignored
# and is never copied into release/.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(COURSE_ROOT, "gradebook.db")

# A correct notebook runs in about a second; 30 s per cell stops an endless
# loop without cutting off a slow but honest answer.
c.Execute.timeout = 30

# Talk to kernels over Unix sockets rather than TCP on loopback: nothing else
# on the machine can reach a kernel that runs student code. The socket path
# must be absolute, since nbgrader starts each kernel in the notebook's own
# folder; the process id keeps two graders on one machine apart.
KERNEL_SOCKETS = jupyter_runtime_dir()
os.makedirs(KERNEL_SOCKETS, mode=0o700, exist_ok=True)
c.KernelManager.transport = "ipc"
c.KernelManager.ip = os.path.join(KERNEL_SOCKETS, f"nbgrader-kernel-{os.getpid()}")
