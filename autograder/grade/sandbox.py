"""Isolation of each grading kernel with bubblewrap, setpriv and prlimit (no Docker).

Student code is untrusted. ``grade`` builds one ``Sandbox`` per batch (``detect``,
which refuses with a ``UsageError`` when the tools are missing or do not work here);
``autograder.grade.kernel.isolate`` then launches every kernel as::

    bwrap <mounts> --unshare-net --unshare-pid --unshare-ipc --unshare-uts ... --die-with-parent
      -- setpriv --reuid=U --regid=U --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all
      -- prlimit --as=... --nproc=... --nofile=... --fsize=... --core=0 --cpu=...
      -- <venv python> -m ipykernel_launcher -f <connection file>

* **network**: none (a network namespace of its own; Unix sockets are reachable only in
  the kernel's private folder);
* **user**: when the grader is root, a real uid of its own per kernel (``kernel_uid``),
  no groups, no capabilities, ``no_new_privs``. A uid per kernel, not one shared
  ``nobody``: ``RLIMIT_NPROC`` counts the processes of a uid, so a fork bomb under a shared
  uid would stop the kernels of the other workers from starting threads. When the grader
  is not root, a user namespace (``bwrap --unshare-user --uid 65534``) instead;
* **limits** (``prlimit``): address space, processes, open files, file size, no core
  dumps, CPU seconds;
* **a share of the machine** (``autograder.grade.fair_share``): a cgroup of its own per kernel,
  with one CPU, its memory and its processes, which every process it starts stays in;
* **files**: an allowlist of read-only mounts (``mount_arguments``): the system, the
  Python installation, the venv, the course data and the kernel's working folder
  (``autograded/<student>/<chapter>/``, read-only, where nbgrader put the release's student
  edition of ``solutions`` and ``autograder.runtime`` as ``autograder/``: the only part of the
  autograder a kernel sees; the notebook nbgrader keeps there, with the restored hidden tests,
  cannot be opened). The one
  writable place is the kernel's private folder (connection file, sockets, a fresh
  HOME/IPYTHONDIR/MPLCONFIGDIR and TMPDIR), removed after the notebook. The rest of
  the course directory (gradebooks, source notebooks, expected values, other students,
  the submissions), the repository (chapters/, the full ``solutions``, .git, _build,
  tests) and the grader's home do not exist in the kernel's view.
"""

from __future__ import annotations

import glob
import importlib.util
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from autograder.course import UsageError
from autograder.grade import fair_share as fair_shares

GiB, MiB = 2**30, 2**20
KERNEL_UID_BASE = 0x7000_0000  # above the ids of users, systemd's dynamic users and container ranges
NAMESPACE_UID = 65534  # the kernel's uid inside a user namespace (grader not root)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
INSTALL_HINT = "install it with `apt-get install bubblewrap util-linux` (Debian/Ubuntu)"
#: where bubblewrap is, when it is not on PATH (a cluster node with its own installation)
BWRAP_ENV = "AUTOGRADER_BWRAP"
PASSED_VARIABLES = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "PYDEVD_DISABLE_FILE_VALIDATION",
    "DNN_COURSE_DATA",
    "JUPYTER_PLATFORM_DIRS",
)

# the numeric libraries' settings (e.g. OPENBLAS_CORETYPE) change floating-point results in the last
# bits; the reference run (autograder.grade.score) keeps them, so the kernels must too
NUMERIC_LIBRARY_PREFIXES = ("OPENBLAS_", "GOTO", "MKL_", "OMP_", "NPY_")


class IsolationUnavailable(UsageError):
    """The kernels cannot be isolated on this machine (the CLI exits with status 2)."""


@dataclass(frozen=True)
class Sandbox:
    """How every kernel of a batch is isolated: tools, limits and the read-only allowlist (picklable)."""

    bwrap: str
    prlimit: str
    setpriv: str | None  # the grader is root: a real uid change; None: a user namespace instead
    memory: int = 4 * GiB  # address space of each kernel process
    processes: int = 256  # processes and threads of the kernel's uid
    open_files: int = 1024
    file_size: int = 256 * MiB  # largest file the kernel can write (its log included)
    readable: tuple[str, ...] = ()  # host paths mounted read-only at the same place
    hidden: tuple[str, ...] = ()  # folders inside ``readable`` replaced by an empty one
    font_cache: tuple[str, ...] = ()  # matplotlib's font list, copied into each kernel's home
    share: fair_shares.FairShare = fair_shares.FairShare(0, why_not="not detected")  # each kernel's cgroup

    @property
    def user_namespace(self) -> bool:
        return self.setpriv is None

    @property
    def process_limit(self) -> int:
        """Processes and threads of a kernel's uid: fewer when no cgroup shares the CPU (the fallback)."""
        return self.processes if self.share.available else min(self.processes, fair_shares.FALLBACK_PROCESSES)

    def for_data(self, data_dir: str, memory: int) -> Sandbox:
        """The same sandbox with ``data_dir`` readable instead, and kernels of ``memory`` bytes."""
        readable, hidden = readable_paths(data_dir)
        return replace(self, readable=readable, hidden=hidden, memory=memory)


# ---------------------------------------------------------------------------
# what the kernel may read
# ---------------------------------------------------------------------------


def find_tool(name: str) -> str | None:
    """The path of a command-line tool, or None; bubblewrap's is ``$AUTOGRADER_BWRAP`` when that is set."""
    if name == "bwrap" and os.environ.get(BWRAP_ENV):
        return shutil.which(os.environ[BWRAP_ENV])
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/bin", "/usr/sbin"]))


def package_folder(name: str) -> Path | None:
    """Where an installed top-level package lives, without importing it."""
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]).resolve() if locations else None


def same_and_real(path: str | Path) -> list[str]:
    """``path`` as given (absolute) and, when a symlink lies on the way, its real path too."""
    given, real = os.path.abspath(path), os.path.realpath(path)
    return [given] if given == real else [given, real]


def without_nested(paths: list[str]) -> list[str]:
    """The paths that are not inside another one of them, shortest first."""
    kept: list[str] = []
    for path in sorted(set(paths), key=lambda p: (p.count("/"), p)):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def is_inside(path: str, folders: tuple[str, ...] | list[str]) -> bool:
    return any(path.startswith(folder.rstrip("/") + "/") for folder in folders)


def readable_paths(data_dir: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(read-only mounts, folders hidden inside them): Python, the venv and the data.

    Of the autograder the kernel sees only ``autograder.runtime``, as the ``autograder/``
    folder of its working folder (the release copies it there); the installed packages
    ``autograder`` (grader, samples) and ``solutions`` (the reference answers) are hidden
    when they lie inside a readable path (a non-editable install in the venv).
    """
    paths = [*same_and_real(sys.base_prefix), *same_and_real(sys.prefix), *same_and_real(data_dir)]
    readable = tuple(without_nested(paths))
    secret = [package_folder("solutions"), package_folder("autograder")]
    hidden = tuple(str(p) for p in secret if p is not None and p.is_dir() and is_inside(str(p), readable))
    return readable, hidden


def matplotlib_font_cache() -> tuple[str, ...]:
    """The grader's matplotlib font lists, so that each kernel does not rebuild its own (0.6 s).

    Built once (by importing matplotlib in a subprocess) when this machine has none yet.
    """
    folders = [
        os.environ.get("MPLCONFIGDIR", ""),
        os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib"),
    ]

    def found() -> tuple[str, ...]:
        files = {f for folder in folders if folder for f in glob.glob(os.path.join(folder, "fontlist-v*.json"))}
        return tuple(sorted(files))

    if not found():
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], capture_output=True, timeout=300)
    return found()


# ---------------------------------------------------------------------------
# one kernel
# ---------------------------------------------------------------------------


def cpu_seconds(time_limit: float) -> int:
    """The CPU time limit of a kernel process: a backstop, the notebook's watchdog stops it first."""
    return int(time_limit) + 60


_kernels_started = itertools.count()


def kernel_uid() -> int:
    """A uid no other running kernel has: from this process's pid and a counter of its kernels."""
    return KERNEL_UID_BASE + (os.getpid() % 2**22) * 16 + next(_kernels_started) % 16


def prepare_private_folder(folder: Path, owner: int | None, font_cache: tuple[str, ...] = ()) -> dict[str, str]:
    """Make home/ and tmp/ in the kernel's private folder; returns the variables that point there.

    ``owner``: the kernel's uid when the grader is root (it then owns the whole folder).
    """
    home, tmp = folder / "home", folder / "tmp"
    matplotlib = home / ".matplotlib"
    for path in (home, tmp, matplotlib):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for cache in font_cache:
        shutil.copyfile(cache, matplotlib / os.path.basename(cache))
    if owner is not None:
        for path in (folder, *folder.rglob("*")):
            os.chown(path, owner, owner, follow_symlinks=False)
    folder.chmod(0o700)
    return {
        "HOME": str(home),
        "IPYTHONDIR": str(home / ".ipython"),
        "MPLCONFIGDIR": str(matplotlib),
        "TMPDIR": str(tmp),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }


def environment(base: dict[str, str], private: dict[str, str]) -> dict[str, str]:
    """The kernel's environment: an allowlist of ``base`` (no tokens or paths of the grader) + its own folders."""
    env = {
        name: value
        for name, value in base.items()
        if name in PASSED_VARIABLES or name.startswith(NUMERIC_LIBRARY_PREFIXES)
    }
    env.setdefault("LANG", "C.UTF-8")
    env["PATH"] = os.pathsep.join([os.path.join(sys.prefix, "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the code folders are read-only
    env["USER"] = env["LOGNAME"] = "student"
    env.update(private)
    return env


def _directories(path: str, made: set[str]) -> list[str]:
    """bwrap arguments creating the missing parents of a mount point, traversable by any uid.

    (bwrap would create them with mode 0700, owned by root: the kernel's uid could not pass.)
    """
    args = []
    parts = Path(path).parent.parts
    for depth in range(2, len(parts) + 1):
        parent = str(Path(*parts[:depth]))
        if parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", parent]
    return args


def mount_arguments(sandbox: Sandbox, workdir: str, private: str) -> list[str]:
    """bwrap's mounts: the allowlist read-only, the working folder read-only, the private folder writable."""
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    made = {"/tmp"}
    mounts = [(path, "--ro-bind") for path in sandbox.readable]
    mounts += [(workdir, "--ro-bind"), (private, "--bind")]
    for path, how in sorted(mounts, key=lambda mount: mount[0].count("/")):
        args += _directories(path, made) + [how, os.path.realpath(path), path]
        made.add(path)
    for path in sandbox.hidden:
        args += ["--tmpfs", path]
    for notebook in sorted(Path(workdir).glob("*.ipynb")):
        # nbgrader's copy holds the restored hidden tests; a device on a nodev mount cannot be opened
        args += ["--ro-bind", "/dev/null", str(notebook)]
    return args


def command(sandbox: Sandbox, workdir: str, private: str, uid: int | None, cpu_seconds: int) -> list[str]:
    """The command that runs the kernel command after it inside the sandbox (it ends with ``--``)."""
    bwrap = [
        sandbox.bwrap,
        *mount_arguments(sandbox, workdir, private),
        "--chdir",
        workdir,
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--setenv",
        "JPY_PARENT_PID",
        "1",
    ]  # its parent is bwrap's init, pid 1: ipykernel then does not watch it
    if sandbox.user_namespace:
        bwrap += ["--unshare-user", "--uid", str(NAMESPACE_UID), "--gid", str(NAMESPACE_UID), "--disable-userns"]
        user: list[str] = []
    else:
        assert sandbox.setpriv is not None  # no user namespace: the grader is root and has setpriv
        user = [
            sandbox.setpriv,
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ]
    limits = [
        sandbox.prlimit,
        f"--as={sandbox.memory}",
        f"--nproc={sandbox.process_limit}",
        f"--nofile={sandbox.open_files}",
        f"--fsize={sandbox.file_size}",
        "--core=0",
        f"--cpu={cpu_seconds}",
        "--",
    ]
    return [*bwrap, "--", *user, *limits]


def remove_folder(folder: str | Path) -> None:
    """Remove a kernel's private folder, even where the kernel took away permissions."""

    def allow_and_retry(function, path, _error):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
            function(path)
        except OSError:
            pass

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=allow_and_retry)
    else:
        shutil.rmtree(folder, onerror=allow_and_retry)


# ---------------------------------------------------------------------------
# the batch
# ---------------------------------------------------------------------------


def missing_tools(as_root: bool) -> list[str]:
    """The isolation tools that are not installed."""
    names = ["bwrap", "prlimit"] + (["setpriv"] if as_root else [])
    return [name for name in names if not find_tool(name)]


def probe(sandbox: Sandbox) -> str:
    """Start the venv's Python in the sandbox once; returns why it failed ('' when it works)."""
    folder = Path(tempfile.mkdtemp(prefix="grader-probe-"))
    try:
        uid = None if sandbox.user_namespace else kernel_uid()
        prepare_private_folder(folder, uid)
        argv = command(sandbox, str(folder), str(folder), uid, cpu_seconds=10)
        argv += [sys.executable, "-c", "import os; print(os.getuid())"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.TimeoutExpired) as error:
            return str(error)
        expected = str(NAMESPACE_UID if uid is None else uid)
        if done.returncode != 0 or done.stdout.strip() != expected:
            return (done.stderr.strip() or done.stdout.strip() or f"exit code {done.returncode}").splitlines()[-1]
        return ""
    finally:
        remove_folder(folder)


def detect(memory: int, data_dir: str) -> Sandbox:
    """The sandbox of a batch; raises ``IsolationUnavailable`` saying what is missing and how to install it."""
    as_root = os.geteuid() == 0
    missing = missing_tools(as_root)
    if missing:
        where = f" ({BWRAP_ENV}={os.environ[BWRAP_ENV]})" if "bwrap" in missing and os.environ.get(BWRAP_ENV) else ""
        raise IsolationUnavailable(
            f"cannot isolate the students' kernels: {', '.join(missing)} not found{where}; {INSTALL_HINT}, "
            "or pass --unsafe to grade without isolation (only for notebooks you trust)"
        )
    readable, hidden = readable_paths(data_dir)
    bwrap, prlimit = find_tool("bwrap"), find_tool("prlimit")
    assert bwrap is not None and prlimit is not None  # not missing, as checked above
    sandbox = Sandbox(
        bwrap=bwrap,
        prlimit=prlimit,
        setpriv=find_tool("setpriv") if as_root else None,
        memory=memory,
        readable=readable,
        hidden=hidden,
        font_cache=matplotlib_font_cache(),
        share=fair_shares.detect(),
    )
    problem = probe(sandbox)
    if problem:
        namespaces = (
            ""
            if as_root
            else "; unprivileged user namespaces must be enabled "
            "(sysctl kernel.unprivileged_userns_clone=1 user.max_user_namespaces=10000), or run as root"
        )
        raise IsolationUnavailable(
            f"cannot isolate the students' kernels: bubblewrap failed on this machine ({problem}){namespaces}; "
            "inside a container, bubblewrap needs the permission to create namespaces. "
            "Pass --unsafe to grade without isolation (only for notebooks you trust)"
        )
    return sandbox


def available() -> bool:
    """Whether kernels can be isolated here (for the grader's own trusted runs)."""
    try:
        detect(4 * GiB, tempfile.gettempdir())
    except IsolationUnavailable:
        return False
    return True


def _size(n: int) -> str:
    return f"{n / GiB:g}GiB" if n >= GiB else f"{n / MiB:g}MiB"


def protections(sandbox: Sandbox | None, cpu_seconds: int) -> list[str]:
    """What protects the grader from the kernels, one line per protection, for the log and the CLI."""
    if sandbox is None:
        return ["none: --unsafe, kernels run as the grader's user, with its files and the network"]
    if sandbox.user_namespace:
        user = f"user: uid {NAMESPACE_UID} in a user namespace (bwrap --unshare-user), no capabilities"
    else:
        user = (
            f"user: a uid of its own per kernel ({KERNEL_UID_BASE}+, setpriv), no groups, no capabilities, no_new_privs"
        )
    return [
        "network: none (bwrap --unshare-net; pid, ipc, uts namespaces of its own)",
        user,
        f"limits: as={_size(sandbox.memory)} nproc={sandbox.process_limit} nofile={sandbox.open_files} "
        f"fsize={_size(sandbox.file_size)} core=0 cpu={cpu_seconds}s (prlimit)",
        "files: allowlist (system, Python, venv, data: read-only; working folder with the release's solutions "
        "and autograder.runtime read-only; a private writable HOME and TMPDIR, removed afterwards; no course "
        "files, no repository)",
        sandbox.share.describe(sandbox.memory, sandbox.processes),
    ]
