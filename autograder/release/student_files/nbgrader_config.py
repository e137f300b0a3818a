# nbgrader's settings for this assignment folder, read by the Validate button
# (JupyterLab started here: jupyter lab --config=jupyter_lab_config.py).
import os
import sys

c = get_config()  # type: ignore[name-defined]  # noqa: F821 (defined by nbgrader when it reads this file)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from autograder.assignment import before_validation  # noqa: E402 (this folder's autograder/)

# a test cell deleted or an answer cell's metadata lost: Validate says which and what to do
c.Execute.on_notebook_start = before_validation
# one cell may run this long (the chapters need seconds; MNIST a minute)
c.Execute.timeout = 300
