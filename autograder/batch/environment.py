"""Which software grades: the course's lock, the Python version and the grader's own code.

A grade must not depend on the machine that computed it. The client sends each worker what
it expects (``expected``): the exact versions of the course's lock (``constraints.txt``),
its Python version, a digest of the ``autograder`` package's code and the fingerprint of
the library the reference run uses (``autograder.release.reference_run.library_fingerprint``:
``solutions``, the data). A worker compares its
own installation with it (``differences``) and refuses to grade when anything differs
(``autograder.batch.worker``). The code digest is also part of every release digest
(``autograder.batch.bundles``), so results stored by another version of the grader are
never reused.
"""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import distributions
from pathlib import Path

from autograder.course import ROOT

LOCK = ROOT / "constraints.txt"
PACKAGE = Path(__file__).resolve().parent.parent  # the autograder package
#: installers in the lock (pip freeze --all), which do not take part in grading
NOT_GRADING = frozenset({"pip", "setuptools", "wheel"})
SHOWN = 5  # differences named in a message; the others are counted


def canonical(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return name.lower().replace("_", "-").replace(".", "-")


def pins(text: str) -> dict[str, str]:
    """name -> version of each ``name==version`` line of a lock file."""
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, pinned = line.split("==", 1)
            if canonical(name) not in NOT_GRADING:
                found[canonical(name)] = pinned.strip()
    return found


def code_digest() -> str:
    """sha256 of the autograder package's code and templates (no samples, no caches)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        relative = path.relative_to(PACKAGE)
        if not path.is_file() or relative.parts[0] == "samples" or "__pycache__" in relative.parts:
            continue
        if path.suffix not in (".py", ".j2", ".json", ".css", ".template"):
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def expected() -> dict:
    """What every worker must have: this client's Python and grader code, and the course's lock."""
    from autograder.release.reference_run import library_fingerprint

    return {
        "python": platform.python_version(),
        "code": code_digest(),
        "library": library_fingerprint(),
        "packages": pins(LOCK.read_text()),
    }


def installed() -> dict[str, str]:
    """name -> version of every distribution installed here (the first on ``sys.path``, as imports find it)."""
    found: dict[str, str] = {}
    for distribution in distributions():
        if distribution.metadata["Name"]:
            found.setdefault(canonical(distribution.metadata["Name"]), distribution.version)
    return found


def differences(wanted: dict) -> list[str]:
    """How this process's installation differs from ``wanted`` (``expected()`` of the client), in words."""
    found = []
    if platform.python_version() != wanted["python"]:
        found.append(f"Python {platform.python_version()} (the client's: {wanted['python']})")
    if code_digest() != wanted["code"]:
        found.append("the autograder's code differs from the client's (another version of the repository)")
    if "library" in wanted:
        from autograder.release.reference_run import library_fingerprint

        if library_fingerprint() != wanted["library"]:
            found.append("`solutions` or data/ differ from the client's (another version of the repository)")
    packages, versions = [], installed()
    for name, pinned in sorted(wanted["packages"].items()):
        have = versions.get(name)
        if have != pinned:
            packages.append(f"{name} {have or 'missing'} (lock: {pinned})")
    if packages:
        more = f" and {len(packages) - SHOWN} more" if len(packages) > SHOWN else ""
        found.append("packages differ from the course's lock: " + ", ".join(packages[:SHOWN]) + more)
    return found
