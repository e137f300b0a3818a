"""Grading one notebook: nbgrader's ``Autograde`` with the course's steps, in the order they run.

Everything here runs on a grading worker, for one submission, in a scratch course folder of
its own (``autograder.batch`` decides which notebooks and keeps the results).

``submission``      the entry point, ``grade_notebook(task)``: the preprocessor lists, the gradebook of one
``sanitize``        nbgrader's sanitizing steps, robust against any metadata a student can produce
``seal``            test cells rewritten so that the student's process only sends data
``execute``         nbgrader's Execute with timeouts, a watchdog and capped output
``kernel``          how a kernel is started (in its sandbox and cgroup) and stopped
``sandbox``         the kernel's isolation: bubblewrap, setpriv, prlimit
``fair_share``      each kernel's share of the machine: a cgroup with one CPU, its memory and processes
``score``           expected values from the reference run; points decided outside the student's process
``rubric``          each written answer's model answer and rubric under it, for formgrader (never in feedback)
``journal``         what happened to a submission, in words for the instructor (the reason column)
``feedback``        the feedback page's steps: no hidden tests, solutions or rubrics
``feedback_score``  the page's header: autograded and hand-graded points, as nbgrader's gradebook has them
``feedback_page``   the page's HTML: nbconvert's exporter with math as MathML (works offline)
"""
