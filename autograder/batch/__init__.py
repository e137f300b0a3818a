"""Grading a class: ``python -m autograder grade``, on dask.distributed, with one writer.

``run``          one ``grade`` run: the course directory, triage, the results as they arrive, the lock
``collect``      student ids and notebooks from a folder or an LMS zip export
``cluster``      where the tasks run: a dask LocalCluster or an existing scheduler, its workers checked
``environment``  which software grades: the lock, Python, the grader's code and library, compared on each worker
``bundles``      what a task reads from the course side, as content-addressed bytes (release, data)
``dispatch``     the tasks on the cluster: a plain loop over futures, results as they arrive
``worker``       what runs on a worker: its start-up checks, its cache, the grading and reference tasks
``results``      a task's outcome: what crosses the wire, the store of results by key, the student's files
``progress``     the batch's progress bar
``gradebook``    each submission's result merged into the course gradebook (nbgrader's API), one writer
``report``       grades.csv and the text table
"""
