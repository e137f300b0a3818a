"""Sealed scoring's parts (autograder.grade.seal and .score, autograder.runtime.probe), without a kernel.

The whole pipeline is tested by grading: tests/test_autograder_chapters.py (every chapter)
and tests/test_cheats.py (the adversarial corpus).
"""

from __future__ import annotations

import ast
import glob

import nbformat
import numpy as np
import pytest

from autograder.grade.score import decode, judge, verdict
from autograder.grade.seal import SealingError, rewrite
from autograder.plumbing import hidden_line_numbers, is_test_cell
from autograder.runtime import checks
from autograder.runtime.probe import encode

pytestmark = pytest.mark.autograder

CELL = '''
from autograder.checks import check_close, check_true
x = np.array([1.0, -2.0])
check_close("relu(x)", relu(x), [1.0, 0.0], hint="max(0, x)")
### BEGIN HIDDEN TESTS
expected = np.array([0.0, 3.25])
scale = 2.0
wanted = expected * scale
check_close("relu on fresh input", relu(np.array([-1.0, 3.25])), wanted / scale, rtol=1e-9)
for value in (1.0, 2.0):
    check_true(f"relu({value}) > 0", relu(np.array([value]))[0] > 0, message=f"got {relu(np.array([value]))}")
### END HIDDEN TESTS
'''


def test_the_probe_form_keeps_the_received_values_and_nothing_of_the_expected_ones():
    probe = rewrite(CELL, "probe")
    assert "_autograder_probe.close(0, received=relu(x))" in probe
    assert "_autograder_probe.close(1, received=relu(np.array([-1.0, 3.25])))" in probe
    assert "_autograder_probe.true(2, condition=" in probe and "message=f'got" in probe
    for gone in ("[1.0, 0.0]", "max(0, x)", "rtol", "expected", "wanted", "scale", "relu on fresh input"):
        assert gone not in probe, gone
    assert "x = np.array([1.0, -2.0])" in probe  # the received value needs it


def test_both_forms_number_the_checks_alike_and_mark_the_hidden_ones():
    expect = rewrite(CELL, "expect")
    calls = [n for n in ast.walk(ast.parse(expect)) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "expect"]
    assert [(c.args[0].value, c.args[1].value, c.args[2].value) for c in calls] == [
        (0, "close", False), (1, "close", True), (2, "true", True)]
    assert hidden_line_numbers(CELL) == set(range(5, 13))


def test_a_consistency_check_compares_with_the_students_own_values():
    """An expected value computed from the student's results is computed in the student's process."""
    cell = (
        "x = np.arange(4.0)\n"
        "out = dropout(x, 0.5, rng)\n"
        "mask = out != 0\n"
        "check_close('kept values are scaled', out, x * mask / 0.5, hint='divide by keep_prob')\n"
        "check_close('fresh', dropout(x, 0.0, rng), x * 1.0)\n"
    )
    probe = rewrite(cell, "probe")
    assert "close(0, received=out, expected=x * mask / 0.5)" in probe
    assert "close(1, received=dropout(x, 0.0, rng))" in probe and "x * 1.0" not in probe
    expect = ast.parse(rewrite(cell, "expect"))
    relational = [ast.literal_eval(c.args[3]) for c in ast.walk(expect) if isinstance(c, ast.Call)
                  and isinstance(c.func, ast.Attribute) and c.func.attr == "expect"]
    assert relational == [("expected",), ()]
    close = {**expectation("close", "kept", received=np.zeros(2), expected=np.zeros(2), rtol=1e-5, atol=1e-7,
                           dtype=None, hint=""), "relational": ["expected"]}
    assert judge(close, {"received": encode(np.ones(2))}).endswith("no value was received for this check")
    assert judge(close, {"received": encode(np.ones(2)), "expected": encode(np.ones(2))}) is None


@pytest.mark.parametrize("source, problem", [
    ("x = 1", "calls no check_"),
    ("check_close(*args)", "* or ** arguments"),
    ("check_close('n', 1, 2, tolerance=3)", "no parameter"),
    ("check_close('n')", "missing"),
    ("check_close('n', (", "does not parse"),
])
def test_a_test_cell_that_cannot_be_sealed_is_a_clear_error(source, problem):
    with pytest.raises(SealingError, match=problem.replace("*", r"\*")):
        rewrite(source, "probe")


@pytest.mark.parametrize("value", [
    np.arange(6.0).reshape(2, 3), np.float32(1.5), np.array([True, False]), 3, -2.5, float("nan"), True, None,
    "text", (1, (2.0, "a")), [np.int64(3), 4], np.array(["a", "b"]),
])
def test_values_cross_as_data_and_come_back_equal(value):
    back = decode(encode(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and np.isnan(value):
        assert np.isnan(back)
    else:
        assert back == value


class AlwaysEqual:
    def __eq__(self, other):
        return True


class Liar(np.ndarray):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value, kind", [
    (AlwaysEqual(), "AlwaysEqual"), (np.array([AlwaysEqual()], dtype=object), "dtype object"),
    ({"a": 1}, "dict"), (lambda: 1, "function"),
])
def test_objects_do_not_cross(value, kind):
    back = decode(encode(value))
    assert isinstance(back, checks.Unsupported) and kind in back.type_name


def test_an_ndarray_subclass_crosses_as_its_plain_data():
    back = decode(encode(np.zeros(3).view(Liar)))
    assert type(back) is np.ndarray and not np.any(back)


@pytest.mark.parametrize(
    "data", [{"ndarray": "not base64!"}, {"int": "1e5"}, {"str": 3}, {"evil": 1}, [], {"a": 1, "b": 2}]
)
def test_malformed_data_is_unsupported(data):
    assert isinstance(decode(data), checks.Unsupported)


def expectation(kind, name, hidden=False, **arguments):
    return {"site": 0, "occurrence": 0, "kind": kind, "name": name, "hidden": hidden,
            "arguments": {k: encode(v) for k, v in arguments.items()}}


def test_judge_compares_outside_with_the_checks_own_messages():
    close = expectation("close", "relu(x)", received=np.zeros(2), expected=np.array([1.0, 0.0]), rtol=1e-5, atol=1e-7,
                        dtype=None, hint="max(0, x)")
    assert judge(close, {"received": encode(np.array([1.0, 0.0]))}) is None
    message = judge(close, {"received": encode(np.array([1.0, 5.0]))})
    assert message.startswith("relu(x): 1 of 2 values differ") and "hint: max(0, x)" in message
    assert "AlwaysEqual" in judge(close, {"received": encode(AlwaysEqual())})
    assert "no value was received" in judge(close, None)
    assert "no value was received" in judge(close, {"something": 1})
    raises = expectation("raises", "bad shape", raised=["ValueError", "Exception"], exception="ValueError", hint="")
    assert judge(raises, {"raised": encode(["ValueError", "Exception", "BaseException", "object"])}) is None
    assert "raised nothing" in judge(raises, {"raised": encode(None)})


def test_verdict_stops_at_the_first_failure_and_ignores_extra_or_missing_records():
    first = expectation("equal", "add(2, 3)", received=5, expected=5, hint="")
    second = {**expectation("equal", "add(-7, 7)", hidden=True, received=0, expected=0, hint=""), "site": 1}
    good = [{"site": 0, "values": {"received": encode(5)}}, {"site": 1, "values": {"received": encode(0)}}]
    assert verdict([first, second], good) == (["add(2, 3)", "add(-7, 7)"], None)
    assert verdict([first, second], good + [{"site": 1, "values": {"received": encode(9)}}])[1] is None
    passed, failure = verdict([first, second], good[:1])
    assert passed == ["add(2, 3)"] and failure["received"] is False and failure["check"]["hidden"]
    passed, failure = verdict([first, second], [{"site": 0, "values": {"received": encode(5.0)}}, *good[1:]])
    assert passed == [] and "type is float, expected int" in failure["message"]  # 5.0 is not the int 5


def chapter_test_cells():
    for path in sorted(glob.glob("chapters/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if is_test_cell(cell):
                yield pytest.param(cell.source, id=cell.metadata.nbgrader.grade_id)


def long_numbers(node: ast.AST) -> set[str]:
    return {repr(n.value) for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, float) and len(repr(n.value)) >= 7}


@pytest.mark.parametrize("source", list(chapter_test_cells()))
def test_no_expected_number_of_a_hidden_check_enters_the_students_process(source):
    """Every test cell of every chapter can be sealed, and its hidden expected values stay out."""
    probe = rewrite(source, "probe")
    rewrite(source, "expect")
    hidden = hidden_line_numbers(source)
    received_numbers, expected_numbers = set(), set()
    from autograder.grade.seal import RECEIVED, SIGNATURES, relational_parameters, student_derived

    derived = student_derived(ast.parse(source))

    for call in ast.walk(ast.parse(source)):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id[6:] in RECEIVED):
            continue
        kind = call.func.id[6:]
        given = dict(zip(SIGNATURES[kind].parameters, call.args, strict=False)) | {
            k.arg: k.value for k in call.keywords
        }
        sent = (*RECEIVED[kind], *relational_parameters(kind, given, derived))
        for parameter, value in given.items():
            target = received_numbers if parameter in sent else expected_numbers
            if call.lineno in hidden or target is received_numbers:
                target |= long_numbers(value)
    probe_numbers = long_numbers(ast.parse(probe))
    leaked = (expected_numbers - received_numbers) & probe_numbers
    assert not leaked, f"expected values in the probe form: {sorted(leaked)[:5]}"
