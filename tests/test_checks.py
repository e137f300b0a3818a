"""The checking helper behind every test cell: right answers pass, wrong ones explain themselves."""

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
    C.check_raises("error", lambda: int("x"), ValueError)
    assert capsys.readouterr().out.count("ok: ") == 7


def test_a_wrong_value_says_received_expected_where_and_hint():
    message = failure(C.check_close, "relu", np.array([0.0, 1.0, 2.0]), [0, 1, 3], hint="max(0, x)")
    assert "relu" in message and "index (2,)" in message and "received 2" in message
    assert "expected 3" in message and "hint: max(0, x)" in message


def test_scalars_shapes_dtypes_and_nan():
    assert "received 1.5, expected 2" in failure(C.check_close, "scalar", 1.5, 2.0)
    assert "wrong shape (3,)" in failure(C.check_close, "shape", np.zeros(3), np.zeros((3, 1)))
    assert "wrong dtype float64" in failure(C.check_close, "dtype", np.zeros(2), np.zeros(2), dtype=np.float32)
    assert "NaN or inf" in failure(C.check_close, "nan", np.array([np.nan, 1.0]), [0.0, 1.0])
    assert "returned None" in failure(C.check_close, "none", None, 1.0)


def test_objects_pretending_to_be_equal_are_refused():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    assert "NumPy array or a number" in failure(C.check_close, "cheat", AlwaysEqual(), 1.0)
    assert "plain value" in failure(C.check_equal, "cheat", AlwaysEqual(), 3)

    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    sneaky = np.zeros(3).view(Sneaky)
    assert "values differ" in failure(C.check_close, "subclass", sneaky, [1, 2, 3])


def test_equal_is_exact_and_typed():
    assert "values differ" in failure(C.check_equal, "n", 3, 4)
    assert "values differ" in failure(C.check_equal, "type", "3", 3)
    C.check_equal("numpy int", np.int64(5), 5)
    C.check_equal("array", np.array([1, 2]), np.array([1, 2]))


def test_unchanged_gradient_and_raises():
    assert "modified its input" in failure(C.check_unchanged, "x", np.arange(3), np.array([0, 1, 5]))
    assert "tolerance" in failure(C.check_gradient, "dx", np.array([1.0, 2.0]), np.array([1.0, 2.1]))
    C.check_gradient("dx", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    assert "raised nothing" in failure(C.check_raises, "e", lambda: None, ValueError)
    assert "raised KeyError" in failure(C.check_raises, "e", lambda: {}["k"], ValueError)
    assert "True or False" in failure(C.check_true, "flag", "yes")
