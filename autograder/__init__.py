"""The instructor's grading pipeline, a layered extension of nbgrader (see autograder/README.md).

The folders are the pipeline::

    chapters/<chapter>.ipynb (nbgrader source)
        |  release/   student edition of `solutions` (probed for answers), nbgrader generate_assignment, --check
        v
    release/<chapter>/ (what students get; runtime/ goes with it as autograder/)
        |  students work, Validate, submit (LMS zip or JupyterHub exchange)
        v
    submissions  --batch/-->  collect -> one task per notebook on dask workers -> gradebook, grades.csv
                   grade/     each task: sanitize -> seal -> execute (sandboxed kernel)
                              -> score (outside the kernel) -> rubric -> feedback page
        |  hand grading in formgrader (the rubric under each written answer), then
        v
    term/: feedback pages again; export: final_grades.csv, Canvas's or Moodle's import file

``autograder.cli``       the command line: release, grade, feedback, export, samples, mapping
``autograder.course``    chapters, the nbgrader course directory, configuration, the text table
``autograder.plumbing``  what nbgrader already knows, said once: course id, cell kinds, regions, release
``autograder.checks``    the name the notebooks import: ``autograder.runtime.checks``
``autograder.runtime``   what runs inside a student's kernel: the checks and the probe
``autograder.release``   making what students get
``autograder.grade``     grading one notebook (what a worker runs)
``autograder.batch``     grading a class on dask.distributed, one writer of the gradebook
``autograder.term``      after hand grading: final feedback pages, final grades, LMS files
"""
