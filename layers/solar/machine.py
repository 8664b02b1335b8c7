"""What the machine offers a build or a fetch: its cores and its free memory."""

from __future__ import annotations

import os
from pathlib import Path


def usable_cores() -> int:
    """The cores this process may use (its CPU affinity; all of them where unknown).

    Returns
    -------
    int
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available_memory() -> float | None:
    """Memory available to new processes [bytes]: ``MemAvailable`` of ``/proc/meminfo``.

    Returns
    -------
    float or None
        ``None`` where the system does not say.
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return None
