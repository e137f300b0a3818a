"""solutions.metrics: accuracy and the confusion matrix on known values."""

import numpy as np
import pytest

from solutions.metrics import accuracy, confusion_matrix

pytestmark = pytest.mark.foundation

Y_TRUE = np.array([0, 0, 1, 1, 1, 2], dtype=np.int64)
Y_PRED = np.array([0, 1, 1, 1, 0, 2], dtype=np.int64)


def test_accuracy_known_value():
    value = accuracy(Y_TRUE, Y_PRED)
    assert type(value) is float and value == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="shape"):
        accuracy(Y_TRUE, Y_PRED[:-1])


def test_confusion_matrix_known_values_rows_are_true_classes():
    matrix = confusion_matrix(Y_TRUE, Y_PRED)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [1, 2, 0], [0, 0, 1]])
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(Y_TRUE))
    assert np.trace(matrix) / matrix.sum() == pytest.approx(accuracy(Y_TRUE, Y_PRED))


def test_confusion_matrix_num_classes_and_bad_ids():
    matrix = confusion_matrix([1, 1], [1, 0], num_classes=4)
    assert matrix.shape == (4, 4) and matrix[1, 1] == 1 and matrix[1, 0] == 1 and matrix.sum() == 2
    with pytest.raises(ValueError, match="num_classes=3"):
        confusion_matrix([0, 3], [0, 0], num_classes=3)
    with pytest.raises(ValueError, match="0..2"):
        confusion_matrix([0, -1, 2], [0, 0, 0])
    with pytest.raises(ValueError, match="shapes"):
        confusion_matrix([0, 1], [0])
