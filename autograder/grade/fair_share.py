"""Each grading kernel's share of the machine: one CPU, its memory and its processes, in a cgroup of its own.

Without a cgroup nothing shares the CPU between kernels graded at the same time: the
process limit of a kernel's uid lets a submission run about 255 busy processes, and
``setsid`` takes them out of the kernel's process group (and, with the scheduler's
autogroups, gives each one as much CPU as a whole honest kernel). Each kernel therefore
gets a cgroup of its own, and every process it starts stays in it, ``setsid`` or not:

* **CPU**: at most one CPU (``cpu.max``; v1: the CFS quota), the same weight as every
  other kernel: 255 busy processes share one CPU among themselves;
* **memory**: ``memory.max`` (v1: ``memory.limit_in_bytes``) for all its processes together;
* **processes**: ``pids.max``.

``detect()`` finds, once per worker process, where such cgroups can be made:

1. **cgroup v2**, the unified hierarchy: in ``$AUTOGRADER_CGROUP`` when it is set (a
   delegated cgroup without processes of its own, with cpu, memory and pids enabled in its
   ``cgroup.subtree_control``); otherwise in ``autograder/`` under the hierarchy's root,
   made when the grader may (root on the host);
2. **cgroup v1**, where cpu, memory and pids are separate hierarchies (older hosts): in
   ``autograder/`` under the grader's own cgroup of each;
3. **none** (no cgroup can be made here, e.g. a container without delegation): the
   fallback. A kernel's uid may then run only ``FALLBACK_PROCESSES`` processes and threads
   (prlimit), so a busy submission runs at most that many processes against an honest
   kernel's one, and the notebook's own limits (the per-cell timeout, the time limit, the
   CPU-seconds limit) still end it. ``protections`` says which one was found, and why not
   the others.

A kernel's command is prefixed by ``KernelCgroup.launcher()``: a one-line shell that moves
itself into the cgroup and then ``exec``s the sandbox, so the kernel never runs outside it.
``KernelCgroup.kill()`` kills every process in it (v2: ``cgroup.kill``), ``remove()`` deletes it.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ENV = "AUTOGRADER_CGROUP"  # a delegated cgroup v2 folder for the kernels' cgroups
CONTROLLERS = ("cpu", "memory", "pids")
FOLDER = "autograder"  # the kernels' cgroups are made in this folder
CPU_PERIOD = 100_000  # microseconds: the scheduler period of the CPU quota
FALLBACK_PROCESSES = 64  # processes and threads of a kernel's uid when there is no cgroup
PLACE = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; done; shift; exec "$@"'


@dataclass(frozen=True)
class FairShare:
    """Where each kernel's cgroup is made, and what it gets (picklable, built once per worker)."""

    version: int  # 2 or 1; 0: no cgroup (the fallback)
    parents: tuple[str, ...] = ()  # v2: one folder; v1: one per controller (cpu, memory, pids)
    cpus: float = 1.0
    why_not: str = ""  # why there is no cgroup v2 (and no v1)

    @property
    def available(self) -> bool:
        return self.version > 0

    def describe(self, memory: int, processes: int) -> str:
        """One line for ``grade``'s list of protections."""
        if not self.available:
            return (
                f"share: no cgroup ({self.why_not}); at most {FALLBACK_PROCESSES} processes per kernel, "
                "the cell timeout and the time limit"
            )
        return (
            f"share: a cgroup v{self.version} of its own per kernel: {self.cpus:g} CPU, "
            f"{memory / 2**30:g} GiB for all its processes, {processes} processes"
        )


# ---------------------------------------------------------------------------
# finding the hierarchies
# ---------------------------------------------------------------------------


def mounts(text: str | None = None) -> list[tuple[str, str, set[str]]]:
    """(mount point, type, options) of each cgroup file system, from /proc/self/mounts."""
    if text is None:
        text = Path("/proc/self/mounts").read_text()
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("cgroup", "cgroup2"):
            found.append((parts[1].replace("\\040", " "), parts[2], set(parts[3].split(","))))
    return found


def own_cgroups(text: str | None = None) -> dict[str, str]:
    """This process's cgroup path per v1 controller, and ``""`` for v2, from /proc/self/cgroup."""
    if text is None:
        text = Path("/proc/self/cgroup").read_text()
    paths = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _write(path: Path, value: str) -> None:
    with open(path, "w") as handle:
        handle.write(value)


def _enabled(folder: Path) -> set[str]:
    return set((folder / "cgroup.subtree_control").read_text().split())


def _enable_below(folder: Path) -> None:
    """Enable cpu, memory and pids for the children of ``folder`` (v2)."""
    missing = [c for c in CONTROLLERS if c not in _enabled(folder)]
    if missing:
        _write(folder / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))


def v2_parent(mount_point: str) -> Path:
    """The folder in which kernels' cgroups are made (v2); raises OSError saying why there is none."""
    configured = os.environ.get(CGROUP_ENV)
    if configured:
        parent = Path(configured)
        if not parent.is_dir():
            raise OSError(f"{CGROUP_ENV}={configured} is not a cgroup folder")
    else:
        root = Path(mount_point)
        available = set((root / "cgroup.controllers").read_text().split())
        if not set(CONTROLLERS) <= available:
            raise OSError(
                f"the cgroup v2 hierarchy has no {', '.join(sorted(set(CONTROLLERS) - available))} controller"
            )
        _enable_below(root)
        parent = root / FOLDER
        parent.mkdir(exist_ok=True)
    _enable_below(parent)
    return parent


def v1_parents(found: list[tuple[str, str, set[str]]], own: dict[str, str]) -> tuple[str, ...]:
    """The folders of the cpu, memory and pids hierarchies in which kernels' cgroups are made (v1)."""
    parents = []
    for controller in CONTROLLERS:
        point = next((p for p, kind, options in found if kind == "cgroup" and controller in options), None)
        if point is None:
            raise OSError(f"no cgroup v1 {controller} hierarchy")
        parent = Path(point) / own.get(controller, "/").lstrip("/") / FOLDER
        parent.mkdir(exist_ok=True)
        parents.append(str(parent))
    return tuple(parents)


def detect() -> FairShare:
    """The machine's way of giving each kernel its share, tried by making one kernel cgroup."""
    found = mounts()
    reasons = []
    unified = next((point for point, kind, _ in found if kind == "cgroup2"), None)
    candidates: list[tuple[int, Callable[[], tuple[str, ...]]]] = []
    if unified is not None:
        candidates.append((2, lambda: (str(v2_parent(unified)),)))
    else:
        reasons.append("no cgroup v2 hierarchy")
    if any(kind == "cgroup" for _, kind, _ in found):
        candidates.append((1, lambda: v1_parents(found, own_cgroups())))
    for version, parents in candidates:
        try:
            share = FairShare(version, parents())
            group = KernelCgroup.create(share, memory=2**30, processes=16)
            try:
                placed = subprocess.run([*group.launcher(), "/bin/true"], capture_output=True, timeout=30)
            finally:
                group.remove()
            if placed.returncode != 0:
                raise OSError(
                    f"a process cannot be moved into {group.folders[0]}: "
                    f"{placed.stderr.decode(errors='replace').strip() or placed.returncode}"
                )
            return share
        except OSError as error:
            reasons.append(
                f"cgroup v{version}: {error.strerror or error}" + (f" ({error.filename})" if error.filename else "")
            )
    return FairShare(0, why_not="; ".join(reasons) or "no cgroup file system")


# ---------------------------------------------------------------------------
# one kernel's cgroup
# ---------------------------------------------------------------------------

_kernels = itertools.count()


@dataclass
class KernelCgroup:
    """The cgroup of one kernel (v2: one folder; v1: one per controller)."""

    share: FairShare
    folders: list[Path] = field(default_factory=list)

    @classmethod
    def create(cls, share: FairShare, memory: int, processes: int) -> KernelCgroup:
        name = f"kernel-{os.getpid()}-{next(_kernels)}"
        group = cls(share, [Path(parent) / name for parent in share.parents])
        try:
            for folder in group.folders:
                folder.mkdir()
            group._limit(memory, processes)
        except OSError:
            group.remove()
            raise
        return group

    def _limit(self, memory: int, processes: int) -> None:
        quota = int(self.share.cpus * CPU_PERIOD)
        if self.share.version == 2:
            (folder,) = self.folders
            _write(folder / "cpu.max", f"{quota} {CPU_PERIOD}")
            _write(folder / "memory.max", str(memory))
            if (folder / "memory.swap.max").exists():
                _write(folder / "memory.swap.max", "0")
            _write(folder / "pids.max", str(processes))
        else:
            cpu, mem, pids = self.folders
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD))
            _write(cpu / "cpu.cfs_quota_us", str(quota))
            _write(mem / "memory.limit_in_bytes", str(memory))
            _write(pids / "pids.max", str(processes))

    def launcher(self) -> list[str]:
        """The command prefix that starts what follows it inside this cgroup."""
        return ["/bin/sh", "-c", PLACE, "autograder-cgroup", *map(str, self.folders), "--"]

    def processes(self) -> list[int]:
        pids: set[int] = set()
        for folder in self.folders:
            try:
                pids.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return sorted(pids)

    def kill(self) -> None:
        """SIGKILL every process of the kernel, those that left its session included."""
        if self.share.version == 2 and (self.folders[0] / "cgroup.kill").exists():
            try:
                _write(self.folders[0] / "cgroup.kill", "1")
                return
            except OSError:
                pass
        for _ in range(20):  # v1: processes may fork while they are being killed
            pids = self.processes()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def remove(self, wait: float = 5.0) -> None:
        """Kill what is left and delete the cgroup (a cgroup can be deleted once its processes are gone)."""
        self.kill()
        deadline = time.monotonic() + wait
        for folder in self.folders:
            while folder.exists():
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    self.kill()
                    time.sleep(0.05)
