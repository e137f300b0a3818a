"""``autograder.checks``: the name the chapters' test cells import (the module is ``autograder.runtime.checks``).

In a release, ``autograder/checks.py`` is ``autograder/runtime/checks.py`` itself; in this
repository this module stands in for it, so that the chapter notebooks run here unchanged.
"""

from autograder.runtime.checks import *  # noqa: F401,F403
from autograder.runtime.checks import __all__  # noqa: F401
