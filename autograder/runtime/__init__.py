"""What runs inside a student's kernel: the checking helper and the grader's probe.

This folder is all of the autograder a student's notebook ever imports. It is copied, as
the package ``autograder``, into every release and assignment bundle next to the notebook
(``autograder/checks.py``, ``autograder/probe.py``), and the grader's sandboxed kernels see
nothing else of it. Its modules therefore import only NumPy, IPython, ``solutions`` and each
other (relatively).

``checks``      the check functions every test cell calls (``from autograder.checks import check_close``)
``probe``       what the grader's rewritten test cells call instead: send the received values as data
``assignment``  is the notebook still the assignment as released (renamed, a graded cell deleted)?
                Checked when the notebook imports ``autograder``, and by Validate's hook.
``i18n``        the learner's language: the release's catalog (``locale/``) translates what the
                checks, the test cells and the stubs say; English when there is none
"""

from .assignment import check_open_notebook as _check_open_notebook
from .i18n import show_stubs_translated as _show_stubs_translated

_check_open_notebook()
_show_stubs_translated()
