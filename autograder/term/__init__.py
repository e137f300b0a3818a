"""Finishing a term, after hand grading in formgrader: final feedback pages and final grades.

``regenerate``  ``python -m autograder feedback``: each student's page again, with the hand-graded points
``export``      ``python -m autograder export``: the term's final grades from the gradebook (final_grades.csv)
``lms``         ``export --format canvas|moodle``: the LMS's grade import file, matched with its roster
"""
