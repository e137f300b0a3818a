"""The instructor's grading pipeline, a thin layer over nbgrader (see autograder/README.md).

``autograder.checks`` is the one helper that every chapter's test cells call;
``autograder.authoring`` writes chapter notebooks with valid nbgrader metadata.

The pipeline (``python -m autograder``):

==========================  =======================================================
``autograder.cli``          the command line: release, grade, samples, mapping
``autograder.course``       chapters, the nbgrader course directory, configuration
``autograder.library``      the student edition of ``solutions`` in each release
``autograder.release``      nbgrader generate_assignment + student edition + data
``autograder.submissions``  student ids and notebooks from a folder or a zip file
``autograder.preprocessors`` the nbgrader preprocessors the grader adds or extends
``autograder.kernel``       how a student's kernel is started and stopped
``autograder.sandbox``      the kernel's isolation: bubblewrap, setpriv, prlimit
``autograder.probe``        inside the kernel: test cells send received values as data
``autograder.sealed``       expected values from a reference run; scores decided outside
``autograder.autograde``    one submission: nbgrader autograde + feedback
``autograder.feedback``     feedback without hidden tests or solutions
``autograder.gradebook``    merging results into the course gradebook
``autograder.grade``        a batch: parallel workers, grades.csv, the table
``autograder.samples``      sample submissions and the points they must get
==========================  =======================================================
"""
