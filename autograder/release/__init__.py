"""Making what students get, in the order a release runs, and checks that it gives nothing away.

``reference_run``    each chapter executed once with its reference answers (jupyter-cache): outputs for the
                     website, expected values for the grader, the leak probe's inputs
``student_edition``  the copy of ``solutions`` in each release, with this chapter's and later answers stubbed
``recorded_calls``   the graded answers' calls that visible checks depend on, from the reference run
``leaks``            the leak probe: what in an edition reproduces an answer is stubbed (``reviewed_leaks.toml``)
``reproduce``        the probe's worker, a subprocess that imports the edition
``assignment``       the course directory's source/ and release/ of a chapter (nbgrader generate_assignment),
                     with the student's files (``student_files/``: README, JupyterLab and nbgrader settings)
``bundle``           the zip a student downloads: the release folder, reproducibly
``translated``       a release in another language: the prose, the checks' words and the README translated
``catalogs``         the translation catalogs (gettext ``.po`` under ``book/locale/``)
``markdown_units``   Markdown cut into the units a translator translates, with the markup each must keep
``citations``        the course's citation style; roles written as text in what students get
``check``            ``release --check``: the chapter's reference answers run against its own release
``samples``          sample submissions made from a chapter, and the points each must get
``authoring``        helpers for writing a chapter notebook with valid nbgrader metadata
"""
