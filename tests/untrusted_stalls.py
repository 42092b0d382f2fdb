"""Readers that misbehave on purpose, run by tests/test_untrusted_files.py in the untrusted-file workers (the workers
import this module by name, as they import the real readers)."""
from __future__ import annotations

import time

from fossil_registry import untrusted


@untrusted.bounded
def spin(seconds: float | None = None) -> str:
    """Burn CPU (for ever, or ``seconds``), as a reader caught in a crafted file does."""
    end = None if seconds is None else time.monotonic() + seconds
    while end is None or time.monotonic() < end:
        sum(range(10_000))
    return "done"


@untrusted.bounded
def sleep(seconds: float) -> str:
    """Hold a worker without using CPU (a reader waiting on a lock, a pipe...)."""
    time.sleep(seconds)
    return "slept"


@untrusted.bounded
def hog(megabytes: int) -> int:
    """Ask for memory, as a reader building a huge value from a small file does."""
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


@untrusted.bounded
def where() -> tuple[int, bool]:
    import os
    return os.getpid(), untrusted.in_worker()
