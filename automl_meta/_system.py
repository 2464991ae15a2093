"""Facts about the machine the search runs on (memory, cores), and child interpreters."""

from __future__ import annotations

import os
from pathlib import Path


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
