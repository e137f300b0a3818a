"""The instructor's grading pipeline, a thin layer over nbgrader.

``autograder.checks`` is the one helper that every chapter's test cells call.
"""
