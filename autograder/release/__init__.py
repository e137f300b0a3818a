"""Making what students get: the student edition of ``solutions``, nbgrader's release, and checks of both.

``student_edition``  the copy of ``solutions`` in each release, with this chapter's and later answers stubbed
``assignment``       the course directory's source/ and release/ of a chapter (nbgrader generate_assignment)
``bundle``           the zip a student downloads: the release folder, reproducibly
``citations``        the course's citation style; roles written as text in what students get
``check``            ``release --check``: the chapter's reference answers run against its own release
``samples``          sample submissions made from a chapter, and the points each must get
``authoring``        helpers for writing a chapter notebook with valid nbgrader metadata
"""
