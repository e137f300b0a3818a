"""Grading a batch of submissions, in the order the pipeline runs.

``collect``      student ids and notebooks from a folder or an LMS zip export
``batch``        one ``grade`` run: the course directory, triage, the one writer of results, the lock
``cluster``      where the tasks run: a dask LocalCluster or an existing scheduler, its workers checked
``bundles``      what a task reads from the course side, as content-addressed bytes (release, data)
``dispatch``     the tasks on the cluster: a plain loop over futures, results as they arrive
``worker``       what runs on a worker: its start-up checks, its cache, the grading and reference tasks
``environment``  which software grades: the lock, Python and the grader's code, compared on each worker
``results``      a task's outcome: what crosses the wire, the store of results by key, the student's files
``progress``     the batch's progress bar
``submission``   one notebook through nbgrader's Autograde converter, in a gradebook of its own
``journal``      what happened to a submission, in words for the instructor (the reason column)
``sanitize``     nbgrader's sanitizing steps, robust against any metadata a student can produce
``seal``         test cells rewritten so that the student's process only sends data
``execute``      nbgrader's Execute with timeouts, a watchdog and capped output
``kernel``       how a kernel is started (in its sandbox and cgroup) and stopped
``sandbox``      the kernel's isolation: bubblewrap, setpriv, prlimit
``fair_share``   each kernel's share of the machine: a cgroup with one CPU, its memory and processes
``score``        expected values from a reference run; points decided outside the student's process
``rubric``       each written answer's model answer and rubric under it, for formgrader (never in feedback)
``feedback``     the feedback page, without hidden tests, solutions or rubrics
``gradebook``    each submission's result merged into the course gradebook, one writer
``report``       grades.csv and the text table
``regenerate``   ``feedback``: the pages again, with the hand grading
``export``       ``export``: the term's final grades from the gradebook (final_grades.csv)
``lms``          ``export --format canvas|moodle``: the LMS's import file, with its roster
"""
