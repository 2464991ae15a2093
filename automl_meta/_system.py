"""Facts about the machine the search runs on (memory, cores), child interpreters, and
where the shipped artifacts are."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

# The top-level folders of a checkout whose files the package needs at run time; a wheel
# carries them as package data under automl_meta/_shipped/ (links to them in the tree).
SHIPPED_FOLDERS = ("studies", "dashboards")


def shipped_file(folder: str, name: str) -> Path:
    """A shipped artifact: ``<folder>/<name>`` of the source tree the package runs from (a
    checkout); else the copy an installed wheel carries (``automl_meta/_shipped/``, read
    with :mod:`importlib.resources`); else ``./<folder>/<name>``.

    >>> shipped_file("studies", "knowledge.db").name
    'knowledge.db'
    """
    if folder not in SHIPPED_FOLDERS:
        raise ValueError(f"Not a shipped folder: {folder!r}; one of {SHIPPED_FOLDERS}.")
    beside = Path(__file__).resolve().parents[1] / folder / name
    if beside.exists():
        return beside
    carried = Path(str(resources.files("automl_meta") / "_shipped" / folder / name))
    if carried.exists():
        return carried
    return Path.cwd() / folder / name


def available_memory_bytes() -> int:
    """Memory the kernel reports as available for new allocations, in bytes."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 1024**3


def total_memory_bytes() -> int:
    """Physical memory of the machine, in bytes."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 1024**3


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a Python child process of automl-meta (a trial process, a local
    worker): this one's, plus ``extra``, with this very copy of the package importable
    first, installed or not."""
    env = dict(os.environ, **extra)
    package_parent = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_parent, os.environ.get("PYTHONPATH", "")) if p)
    return env


def die_with_parent(sig: int, parent: int | None = None) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (a killed driver or
    worker must not leave a trial running on in an orphan). With ``parent`` (the pid it
    should have), exit at once if that parent is already gone."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG
    except OSError:
        return  # no glibc (e.g. musl): the driver's pipe closing still stops an idle worker
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), sig)
