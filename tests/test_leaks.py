"""The release's leak probe: no callable of a student edition may compute an answer of its chapter or a later one.

* on a tiny edition (tests/fixtures/leak_fixtures.py), the probe finds each of the three kinds
  of leak the student's-path issue found, and nothing else (fast: calls recorded in this process);
* the recording run of a tiny chapter keeps the calls of visible checks only (executes a notebook);
* the reviewed table is valid, and a bad entry says which entry and what is wrong;
* a reproduction that cannot be stubbed refuses the release;
* on the real chapters (slow, per chapter): the name-only edition gives the known leaks away, and
  the release's edition reproduces no answer of its chapter or a later one, except what the
  reviewed table keeps for that release.
"""

from __future__ import annotations

import nbformat
import pytest
from fixtures.leak_fixtures import (
    CHAPTER,
    HIDDEN_INPUT,
    LEAKS,
    write_leaky_chapter,
    write_leaky_edition,
)

from autograder.course import Chapter, UsageError, all_chapters
from autograder.plumbing import is_answer_cell
from autograder.release import leaks
from autograder.release.check import unexpected_errors
from autograder.release.leaks import (
    LeakError,
    Reproduction,
    build_probed_edition,
    kept_reproductions,
    probe,
)
from autograder.release.recorded_calls import AnswerCalls, recorded_calls
from autograder.release.student_edition import build_student_edition, chapters_from
from autograder.runtime import probe as runtime_probe

pytestmark = pytest.mark.autograder

np = pytest.importorskip("numpy")


def answer_functions(chapter_path) -> dict:
    """The reference answers of a chapter, defined by running its answer cells."""
    namespace = {"np": np}
    for cell in nbformat.read(chapter_path, as_version=4).cells:
        if is_answer_cell(cell):
            exec(cell.source, namespace)  # noqa: S102 - the course's own reference answers
    return namespace


def record(namespace: dict, calls: list[tuple[str, tuple, dict]]) -> list[AnswerCalls]:
    """``calls`` made through ``autograder.runtime.probe.watch``, as the recording run records them."""
    runtime_probe.watch(namespace, sorted({name for name, _, _ in calls}))
    for name, args, kwargs in calls:
        namespace[name](*args, **kwargs)
    by_answer: dict[str, list[dict]] = {}
    for call in runtime_probe.take_calls(0):
        by_answer.setdefault(call["answer"], []).append(call)
    return [AnswerCalls(CHAPTER, name, "?", tuple(found)) for name, found in sorted(by_answer.items())]


def found_pairs(reproductions: list[Reproduction]) -> set[tuple[str, str]]:
    return {(r.function, r.answer) for r in reproductions}


# ---------------------------------------------------------------------------
# a tiny edition
# ---------------------------------------------------------------------------


def test_probe_finds_each_kind_of_known_leak_in_a_tiny_edition_and_nothing_else(tmp_path):
    namespace = answer_functions(write_leaky_chapter(tmp_path / "src"))
    z, x = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]), np.array([[1.0, 2.0], [3.0, 5.0], [4.0, -1.0]])
    w1 = namespace["momentum_step"](np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.zeros(2), 0.1, 0.9)[0]
    answers = record(namespace, [
        ("cross_entropy", (z, np.array([0, 1])), {}),
        ("layer_forward", (x, np.array([2.0, 0.5]), np.array([0.1, -0.2]), np.array([1.5, 0.5]), np.array([4.0, 9.0])),
         {"train": False}),
        ("momentum_step", (np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.zeros(2), 0.1, 0.9), {}),
        ("momentum_step", (w1, np.array([0.2, 0.4]), np.array([-0.05, 0.1]), 0.1, 0.9), {}),
    ])
    assert [len(a.calls) for a in answers] == [1, 1, 2]
    probed = probe(write_leaky_edition(tmp_path / "edition"), answers)
    assert found_pairs(probed.reproductions) == LEAKS
    assert probed.unprobed == []
    how = {r.function: r.how for r in probed.reproductions}
    assert "Heavy(" in how["optim.Heavy"] and ".update(" in how["optim.Heavy"]


def test_probe_finds_nothing_when_the_results_prove_nothing(tmp_path):
    namespace = {"same": lambda x: x, "nothing": lambda x: np.zeros_like(x), "sign": lambda x: float(np.sign(x).max())}
    answers = record(namespace, [("same", (np.arange(3.0),), {}), ("nothing", (np.arange(3.0),), {}),
                                 ("sign", (np.arange(3.0),), {})])
    assert found_pairs(probe(write_leaky_edition(tmp_path), answers).reproductions) == set()


def test_recorded_calls_keep_the_arguments_before_the_call_and_a_generators_state():
    def shuffle_in_place(x, rng):
        rng.shuffle(x)
        return x.sum() * rng.random()

    rng = np.random.default_rng(7)
    state = rng.bit_generator.state
    (answer,) = record({"shuffle_in_place": shuffle_in_place}, [("shuffle_in_place", (np.arange(5.0), rng), {})])
    (call,) = answer.calls
    args = leaks.from_data(call["args"])
    assert np.array_equal(args[0], np.arange(5.0))  # encoded before the call shuffled it
    assert args[1].bit_generator.state == state
    assert leaks.from_data(call["result"]) == pytest.approx(shuffle_in_place(np.arange(5.0), np.random.default_rng(7)))


@pytest.mark.slow
def test_the_recording_run_keeps_the_visible_calls_only_and_the_probe_finds_the_leaks(tmp_path):
    chapter = Chapter.resolve(str(write_leaky_chapter(tmp_path / "src")))
    answers = recorded_calls(chapter)
    assert {a.answer: len(a.calls) for a in answers} == {"cross_entropy": 1, "layer_forward": 1, "momentum_step": 2}
    assert {a.answer: a.grade_id for a in answers}["momentum_step"] == "momentum_answer"
    (ce,) = [a for a in answers if a.answer == "cross_entropy"]
    z = leaks.from_data(ce.calls[0]["args"])[0]
    assert np.array_equal(z, [[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])  # the visible call, not the hidden one
    assert repr(HIDDEN_INPUT) not in repr([a.calls for a in answers])
    probed = probe(write_leaky_edition(tmp_path / "edition"), answers)
    assert found_pairs(probed.reproductions) == LEAKS


# ---------------------------------------------------------------------------
# the reviewed table, and what cannot be stubbed
# ---------------------------------------------------------------------------


def test_the_reviewed_table_is_valid_and_says_why_each_kept_function_is_kept():
    table = leaks.reviewed_table()
    assert table, "the reviewed table is empty"
    for entry in table:
        assert entry.how and entry.reviewed
        assert not entry.keep_in or entry.why_kept
    functions = {entry.function for entry in table}
    assert "layers.layernorm_backward" in functions  # what the probe cannot reach


GOOD = {"function": '"layers.layernorm_backward"', "answers": '["07_normalization:batchnorm_backward"]',
        "how": '"h"', "reviewed": '"r"'}


@pytest.mark.parametrize("change, words", [
    ({"colour": '"red"'}, "unknown field(s) ['colour']"),
    ({"how": None}, "missing field(s) ['how']"),
    ({"function": '"layers.no_such_thing"'}, "solutions/layers.py defines no top-level function or class"),
    ({"answers": '["07_normalization:relu"]'}, "'07_normalization:relu' is no graded answer"),
    ({"keep_in": '["08_optimizers"]', "why_kept": '"w"'}, "keep_in ['08_optimizers']: each must be a chapter up to"),
    ({"keep_in": '["07_normalization"]'}, "keep_in needs why_kept"),
])
def test_a_bad_entry_of_the_reviewed_table_names_the_file_the_entry_and_the_problem(tmp_path, change, words):
    if "07_normalization" not in all_chapters():
        pytest.skip("needs chapter 7")
    fields = {k: v for k, v in (GOOD | change).items() if v is not None}
    path = tmp_path / "reviewed.toml"
    path.write_text("[[leak]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()), encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        leaks.reviewed_table(path)
    assert str(path) in str(raised.value) and "[[leak]] number 1" in str(raised.value)
    assert words in str(raised.value)


def test_what_the_probe_finds_becomes_a_stub_that_says_which_answer_it_gives_away(tmp_path, monkeypatch):
    chapter = Chapter.resolve(all_chapters()[0])
    name = "binary_cross_entropy_with_logits"  # a function of the library that is no answer of any chapter
    found = Reproduction("losses", name, chapter.id, "an_answer", f"{name}(...)")
    results = iter([leaks.Probed([found], ["plots.plot_history"])])
    monkeypatch.setattr(leaks, "recorded_calls", lambda chapter, log=None: [])
    monkeypatch.setattr(leaks, "probe", lambda edition, answers: next(results))
    edition = build_probed_edition(chapter, tmp_path)
    assert edition.reproductions == [found]
    manifest = (tmp_path / "solutions" / "STUDENT_EDITION.txt").read_text(encoding="utf-8")
    assert f"solutions.losses.{name}" in manifest and "reproduces an_answer on its test inputs" in manifest
    source = (tmp_path / "solutions" / "losses.py").read_text(encoding="utf-8")
    body = source.split(f"def {name}(", 1)[1].split("\ndef ", 1)[0]
    assert f"raise NotImplementedError('solutions.losses.{name} computes an exercise of this chapter" in body


def test_a_reproduction_that_cannot_be_stubbed_refuses_the_release(tmp_path, monkeypatch):
    protected = Reproduction(
        "gradcheck", "relative_error", "01_gradient_descent", "cross_entropy", "relative_error(...)"
    )
    monkeypatch.setattr(leaks, "recorded_calls", lambda chapter, log=None: [])
    monkeypatch.setattr(leaks, "probe", lambda edition, answers: leaks.Probed([protected], []))
    with pytest.raises(LeakError) as raised:
        build_probed_edition(Chapter.resolve(all_chapters()[0]), tmp_path)
    assert "solutions.gradcheck.relative_error reproduces cross_entropy (01_gradient_descent)" in str(raised.value)
    assert f"the release of {all_chapters()[0]}" in str(raised.value)


def test_release_check_flags_a_library_stub_raised_in_a_raises_exception_cell():
    def cell(tags, ename, evalue):
        node = nbformat.v4.new_code_cell("demo()", metadata={"tags": tags})
        node.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])]
        return node

    stub = "solutions.optim.Adam computes an exercise of a later chapter (08_optimizers)"
    graded = nbformat.v4.new_notebook(cells=[
        cell(["raises-exception"], "NotImplementedError", stub),  # a correct student would hit it too
        cell(["raises-exception"], "ValueError", "the demo shows this error on purpose"),
        cell([], "ZeroDivisionError", "division by zero"),
    ])
    problems = unexpected_errors(graded)
    assert problems == [f"cell 1: NotImplementedError: {stub}", "cell 3: ZeroDivisionError: division by zero"]


# ---------------------------------------------------------------------------
# the real chapters (recording runs: once per content, then cached)
# ---------------------------------------------------------------------------


def per_chapter(chapters):
    return pytest.mark.parametrize("chapter", [
        pytest.param(c, marks=[getattr(pytest.mark, f"ch{c[:2]}"), pytest.mark.slow]) for c in chapters])


KNOWN = {  # release -> (function, answer) its name-only edition gives away
    "01_gradient_descent": ("losses.softmax_cross_entropy", "cross_entropy"),
    "04_momentum": ("optim.Momentum", "momentum_step"),
    "07_normalization": ("layers.batchnorm_eval_forward", "batchnorm_layer_forward"),
    "08_optimizers": ("optim.Adam", "adam_update"),
}


@per_chapter([c for c in KNOWN if c in all_chapters()])
def test_the_probe_finds_the_known_leaks_of_the_real_chapters(chapter, tmp_path):
    release = Chapter.resolve(chapter)
    build_student_edition(release, tmp_path)  # stubs by name only, as before the probe
    answers = [calls for owner in chapters_from(release) for calls in recorded_calls(owner)]
    assert KNOWN[chapter] in found_pairs(probe(tmp_path, answers).reproductions)


@per_chapter(all_chapters())
def test_no_release_reproduces_an_answer_of_its_chapter_or_a_later_one(chapter, tmp_path):
    release = Chapter.resolve(chapter)
    edition = build_probed_edition(release, tmp_path)
    answers = [calls for owner in chapters_from(release) for calls in recorded_calls(owner)]
    left = [r for r in probe(tmp_path, answers).reproductions
            if (r.function, r.chapter, r.answer) not in kept_reproductions(release)]
    assert not left, "\n".join(r.describe() for r in left)
    manifest = (tmp_path / "solutions" / "STUDENT_EDITION.txt").read_text(encoding="utf-8")
    for reproduction in edition.reproductions:
        assert f"solutions.{reproduction.function}" in manifest
    if chapter <= "07_normalization":
        assert "solutions.layers.layernorm_backward" in manifest  # reviewed: gives batchnorm_backward away
