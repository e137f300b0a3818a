"""Grading a batch of submissions, in the order the pipeline runs.

``collect``     student ids and notebooks from a folder or an LMS zip export
``batch``       one ``grade`` run: the course directory, triage, the workers, progress, the lock
``submission``  one submission through nbgrader's Autograde converter, in a gradebook of its own
``journal``     what happened to a submission, in words for the instructor (the reason column)
``sanitize``    nbgrader's sanitizing steps, robust against any metadata a student can produce
``seal``        test cells rewritten so that the student's process only sends data
``execute``     nbgrader's Execute with timeouts, a watchdog and capped output
``kernel``      how a kernel is started (in its sandbox) and stopped
``sandbox``     the kernel's isolation: bubblewrap, setpriv, prlimit
``score``       expected values from a reference run; points decided outside the student's process
``rubric``      each written answer's model answer and rubric under it, for formgrader (never in feedback)
``feedback``    the feedback page, without hidden tests, solutions or rubrics
``gradebook``   each submission's result merged into the course gradebook, one writer
``report``      grades.csv and the text table
``regenerate``  ``feedback``: the pages again, with the hand grading
``export``      ``export``: the term's final grades from the gradebook (final_grades.csv)
``lms``         ``export --format canvas|moodle``: the LMS's import file, with its roster
"""
