"""Making what students get: the student edition of ``solutions``, nbgrader's release, and checks of both.

``student_edition``  the copy of ``solutions`` in each release, with this chapter's and later answers stubbed
``recorded_calls``   the graded answers' calls that visible checks depend on, recorded once per chapter
``leaks``            the leak probe: what in an edition reproduces an answer is stubbed (``reviewed_leaks.toml``)
``reproduce``        the probe's worker, a subprocess that imports the edition
``assignment``       the course directory's source/ and release/ of a chapter (nbgrader generate_assignment)
``bundle``           the zip a student downloads: the release folder, reproducibly
``citations``        the course's citation style; roles written as text in what students get
``check``            ``release --check``: the chapter's reference answers run against its own release
``samples``          sample submissions made from a chapter, and the points each must get
``authoring``        helpers for writing a chapter notebook with valid nbgrader metadata
"""
