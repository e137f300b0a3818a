"""The checking helper behind every test cell: right answers pass, wrong ones explain themselves.

A failure names the most informative problem first: the shape, then the values (how many
differ, where the largest difference is and by how much, NaN or inf), then the dtype.
"""

import pickle

import numpy as np
import pytest

from autograder.runtime import checks as C

pytestmark = pytest.mark.foundation


def failure(fn, *args, **kwargs) -> str:
    with pytest.raises(C.CheckFailed) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_passing_checks_print_ok(capsys):
    C.check_close("values", np.float32([1, 2]), [1, 2], dtype=np.float32)
    C.check_equal("count", 3, 3)
    C.check_shape("shape", np.zeros((2, 3)), (2, 3))
    C.check_dtype("dtype", np.zeros(2, np.float32), np.float32)
    C.check_true("flag", True)
    C.check_unchanged("input", np.arange(3), np.arange(3))
    C.check_unchanged("input with NaN", np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    C.check_raises("error", lambda: int("x"), ValueError)
    C.check_gradient("dx", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    assert capsys.readouterr().out.count("ok: ") == 9


def test_a_wrong_value_says_how_many_where_by_how_much_received_expected_and_hint():
    message = failure(C.check_close, "relu", np.array([0.0, 1.0, 2.0, 7.0]), [0, 1, 3, 4], hint="max(0, x)")
    first, *details = message.splitlines()
    assert first == (
        "relu: 2 of 4 values differ; the largest difference is at index (3,): received 7, expected 4, off by 3"
    )
    assert details == ["  received: [0., 1., 2., 7.]", "  expected: [0, 1, 3, 4]", "  hint: max(0, x)"]


def test_dropping_dout_in_relu_backward_is_reported_as_wrong_values_not_as_a_wrong_dtype():
    """The student's-path issue: `(x > 0) * 1.0` is float64 *and* wrong; the values come first."""
    x = np.array([[-2.0, -0.5, 0.5, 3.0]], dtype=np.float32)
    message = failure(C.check_close, "relu_backward on a small example", (x > 0) * 1.0, [[0.0, 0.0, 3.0, 4.0]],
                      dtype=np.float32)
    assert message.startswith("relu_backward on a small example: 2 of 4 values differ; the largest difference "
                              "is at index (0, 3): received 1, expected 4, off by 3")
    assert "dtype" not in message
    # once the values are right, the dtype is the problem left
    message = failure(C.check_close, "relu_backward on a small example", (x > 0) * np.float64(1.0) * [[1, 2, 3, 4]],
                      [[0.0, 0.0, 3.0, 4.0]], dtype=np.float32)
    assert message.startswith("relu_backward on a small example: the values are right but the dtype is float64, "
                              "expected float32")


def test_the_shape_comes_before_values_and_dtype():
    message = failure(C.check_close, "shape", np.zeros(3), np.ones((3, 1), np.float32), dtype=np.float32)
    assert message.startswith("shape: wrong shape (3,), expected shape (3, 1)")
    assert "dtype" not in message and "differ" not in message
    assert failure(C.check_equal, "ids", np.array([1, 2]), np.array([[1, 5]])).startswith(
        "ids: wrong shape (2,), expected shape (1, 2)")
    message = failure(C.check_gradient, "dx", np.array([np.nan]), np.array([1.0, 2.0]))
    assert message.startswith("dx: wrong shape (1,), expected shape (2,)")


def test_nan_and_inf_are_named_with_where_before_the_dtype():
    message = failure(C.check_close, "nan", np.array([1.0, np.nan, np.inf]), [1.0, 0.0, 2.0], dtype=np.float32)
    assert message.startswith("nan: 2 of 3 values are NaN or inf, the first at index (1,): received nan, expected 0")
    assert failure(C.check_close, "scalar", np.inf, 2.0).startswith("scalar: the value is NaN or inf: received inf")
    assert "NaN or inf, the first at index (0,)" in failure(C.check_gradient, "dx", np.array([np.nan]), np.array([1.0]))
    C.check_close("NaN where NaN is expected", np.array([np.nan, 1.0]), [np.nan, 1.0])


def test_a_number_says_received_expected_and_a_small_miss_its_tolerance():
    assert failure(C.check_close, "scalar", 1.5, 2.0) == "scalar: received 1.5, expected 2, off by 0.5"
    message = failure(C.check_close, "float32 sum", np.float32([0.5, 1.00002]), [0.5, 1.0])
    assert "the difference is at index (1,): received 1.00002, expected 1, off by 2e-05 (allowed: 1e-05)" in message


def test_none_and_objects_pretending_to_be_equal_are_refused():
    assert "returned None" in failure(C.check_close, "none", None, 1.0)

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    assert "NumPy array or a number" in failure(C.check_close, "cheat", AlwaysEqual(), 1.0)
    assert "plain value" in failure(C.check_equal, "cheat", AlwaysEqual(), 3)

    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    sneaky = np.zeros(3).view(Sneaky)
    assert "3 of 3 values differ" in failure(C.check_close, "subclass", sneaky, [1, 2, 3])
    assert "2 of 2 values differ" in failure(C.check_equal, "subclass", np.zeros(2).view(Sneaky), np.array([1, 2]))


def test_equal_is_exact_values_first_then_type():
    assert failure(C.check_equal, "n", 3, 4).startswith("n: values differ\n  received: 3\n  expected: 4")
    assert "values differ" in failure(C.check_equal, "text", "3", 3)
    assert failure(C.check_equal, "count", 5.0, 5).startswith(
        "count: the value is right but its type is float, expected int"
    )
    assert "values differ" in failure(C.check_equal, "pairs", (np.zeros(2), 1), (np.ones(2), 1))  # no ValueError
    message = failure(C.check_equal, "labels", np.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 5]]))
    assert message.startswith("labels: 1 of 4 values differ; the difference is at index (1, 1): received 4, expected 5")
    assert "  received: [[1, 2],\n             [3, 4]]" in message  # a 2-D array lines up under its label
    C.check_equal("numpy int", np.int64(5), 5)
    C.check_equal("array", np.array([1, 2]), np.array([1, 2]))


def test_unchanged_says_what_changed_and_where():
    message = failure(C.check_unchanged, "x", np.arange(3.0), np.array([0.0, 1.0, 5.0]))
    assert "modified its input array: 1 of 3 values changed, the first at index (2,): 2.0 became 5.0" in message
    assert "changed from (3,) to (1, 3)" in failure(C.check_unchanged, "x", np.arange(3), np.arange(3).reshape(1, 3))


def test_gradient_dtype_shape_raises_and_true():
    message = failure(C.check_gradient, "dx", np.array([1.0, 2.0]), np.array([2.0, 4.0]), hint="look at dout")
    assert message.startswith("dx: relative error 0.333 (tolerance 1e-07)\n  largest error at index (0,)")
    assert message.endswith("  hint: look at dout")
    assert failure(C.check_dtype, "d", np.zeros(2), np.float32).startswith("d: wrong dtype float64, expected float32")
    assert "raised nothing" in failure(C.check_raises, "e", lambda: None, ValueError)
    assert "raised KeyError" in failure(C.check_raises, "e", lambda: {}["k"], ValueError)
    assert "True or False" in failure(C.check_true, "flag", "yes")


def test_a_failure_keeps_its_parts_and_survives_pickling():
    with pytest.raises(C.CheckFailed) as info:
        C.check_close("relu", np.array([1.0]), [2.0], hint="max(0, x)")
    error = info.value
    assert (error.name, error.received, error.expected, error.hint) == ("relu", "[1.]", "[2.]", "max(0, x)")
    assert error.problem.startswith("1 of 1 values differ")
    assert isinstance(error, AssertionError)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.hint == "max(0, x)"


def test_outside_a_notebook_the_block_has_no_location_and_no_frames():
    with pytest.raises(C.CheckFailed) as info:
        C.check_close("relu", np.array([1.0, 5.0]), [2.0, 5.0], hint="max(0, x)")
    block = info.value._render_traceback_()
    assert block[0] == "\x1b[1;31mCheck failed: relu\x1b[0m"
    assert block[1:] == ["  1 of 2 values differ; the difference is at index (0,): received 1, expected 2, off by 1",
                         "  received: [1., 5.]", "  expected: [2., 5.]", "  hint: max(0, x)"]
