"""Reading untrusted files at a bounded cost: every reader of an uploaded file (geometry files, import tables, photos,
GPX tracks, attachments, returned field kits) runs in a small pool of worker processes, each with a CPU-time and a
memory limit, and each task with a wall-clock limit. A file that takes longer (a GeoPackage whose metadata is a view
over a recursive query, a progressive JPEG of ten thousand scans, a trick nobody has listed yet) costs one worker, which
is killed and replaced; the uploader gets a 422 saying the file took too long to read, and the server's request
threads, which only wait on the worker, go on answering everyone else.

    @untrusted.bounded
    def read_geometry(filename, data, target, ...):   # runs in a worker; returns picklable values
        ...

A call of a ``bounded`` function from the app runs it in a worker and returns its result or raises its domain error
(``InvalidInput``...) as if it had run here; inside a worker (one bounded reader calling another) it runs directly.

Why worker processes, and not a thread with a deadline: GDAL, SQLite and Pillow run in C and cannot be interrupted from
Python; a thread that pins a core holds the interpreter lock between callbacks, and its memory is the server's memory.
Why pebble: it is the kept library that does exactly this (a pool whose task timeout kills and replaces the worker,
futures that can be cancelled, an initializer per worker); concurrent.futures cannot kill one worker. Workers are
started by a fork server (multiprocessing's ``forkserver``): forking the multi-threaded server process itself could copy
a lock another thread held (GDAL's, the allocator's) into the child for ever; the fork server is single-threaded and
has the readers imported once, so a replaced worker is ready in milliseconds.

The pool is a resource of the process, as a thread pool is: ``configure`` (called by the app factory from the settings
``UNTRUSTED_*`` in config.py) sets its limits; a change of limits starts a new pool.
"""
from __future__ import annotations

import atexit
import functools
import importlib
import math
import multiprocessing
import os
import resource
import shutil
import tempfile
import threading
import time
from concurrent.futures import CancelledError, TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from .errors import InvalidInput, Unavailable
from .messages import msg

__all__ = ["Limits", "bounded", "configure", "limits", "FileTooSlow", "ReadersBusy", "in_worker", "stop", "too_slow", "warm",
           "deadline"]

F = TypeVar("F", bound=Callable[..., Any])
MiB = 1024 * 1024

# What the fork server imports once, so that every worker starts with the readers loaded.
PRELOAD = ["fossil_registry.untrusted", "fossil_registry.formats", "fossil_registry.photos",
           "fossil_registry.fieldkit.contents", "fossil_registry.revisions.attachments", "pyogrio", "geopandas",
           "PIL.Image"]


@dataclass(frozen=True)
class Limits:
    """The bounds of one read: wall-clock seconds (the task), CPU seconds (the worker, counted per task), address
    space of the worker in bytes, the number of workers, how many reads may wait for a worker, and how long a read
    waits to be admitted among them before it is refused (long enough for honest uploads arriving together, whose
    reads take milliseconds; too short for a flood to hold the server's request threads)."""

    seconds: float = 60.0
    cpu_seconds: float = 60.0
    memory_bytes: int = 2048 * MiB
    workers: int = 2
    queue: int = 4
    admit_seconds: float = 0.5


class FileTooSlow(InvalidInput):
    """The file took longer to read (or more memory) than any upload may: its reader was stopped."""


class ReadersBusy(Unavailable):
    """Every reader was busy with other uploads for longer than a read may wait: try again shortly."""


_limits = Limits()
_pool = None
_pool_limits: Limits | None = None
_slots: threading.BoundedSemaphore | None = None
_lock = threading.Lock()
_in_worker = False


def configure(new: Limits) -> None:
    """Set the limits of later reads (a running pool with other limits is stopped; the next read starts a new one)."""
    global _limits
    with _lock:
        _limits = new
        if _pool is not None and _pool_limits != new:
            _stop_locked()


def limits() -> Limits:
    return _limits


def in_worker() -> bool:
    return _in_worker


def bounded(fn: F) -> F:
    """Run ``fn`` (a module-level function whose arguments and result pickle) in a bounded worker."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if _in_worker:
            return fn(*args, **kwargs)
        return run(fn.__module__, fn.__qualname__, args, kwargs)
    return call  # type: ignore[return-value]


def run(module: str, qualname: str, args: tuple, kwargs: dict) -> Any:
    """Run module.qualname(*args, **kwargs) in a worker within the limits; its domain errors are raised here.

    Admission comes first: at most ``workers + queue`` reads are in the pool at once, and a read that finds no place
    within ``admit_seconds`` is refused (503), so uploads never hold more than that many of the server's request
    threads for longer, however many are sent at once. An admitted read waits for at most ``queue`` reads ahead of
    it, each ending within its own limit, so its wait is bounded too. The read's temporary files live in a directory this process owns and removes, whatever
    happened to the worker (a killed worker cleans nothing up)."""
    from pebble import ProcessExpired

    current = _limits
    pool, slots = _get_pool(current)
    if not slots.acquire(timeout=current.admit_seconds):
        raise ReadersBusy(msg("untrusted.readers_busy", "the server is reading other uploaded files: try again in a "
                              "minute"), retry_after=60)
    task_dir = tempfile.mkdtemp(prefix=f"{_TASK_PREFIX}{os.getpid()}-")
    try:
        future = pool.schedule(_execute, args=(module, qualname, args, kwargs, current, task_dir),
                               timeout=current.seconds)
        rounds = 1 + math.ceil(current.queue / max(current.workers, 1))
        try:
            return future.result(timeout=rounds * (current.seconds + 5))
        except FutureTimeout:  # pebble's own (the task overran: worker killed and replaced), or ours, as a last line
            future.cancel()
            raise too_slow(current) from None
        except (ProcessExpired, MemoryError, CancelledError):  # the worker died: its CPU or memory limit, a crash
            raise too_slow(current) from None
    finally:
        slots.release()
        shutil.rmtree(task_dir, ignore_errors=True)


def too_slow(current: Limits | None = None) -> FileTooSlow:
    current = current or _limits
    return FileTooSlow(msg("untrusted.file_too_slow", "the file took too long to read (more than {seconds:g} s or "
                           "{memory_mb:,} MB); it may be damaged or built to stall the server. Save it again from "
                           "your GIS (for a GeoPackage: export the layer to a new file) and upload that",
                           seconds=current.seconds, memory_mb=current.memory_bytes // MiB))


def _get_pool(current: Limits):
    """The pool and its admission slots (started on first use, with the limits in force)."""
    global _pool, _pool_limits, _slots
    with _lock:
        if _pool is None:
            from pebble import ProcessPool

            _sweep_task_dirs()
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _pool = ProcessPool(max_workers=current.workers, initializer=_start_worker, initargs=(current,),
                                context=context)
            _pool_limits = current
            _slots = threading.BoundedSemaphore(current.workers + current.queue)
        return _pool, _slots


_TASK_PREFIX = "untrusted-"


def _sweep_task_dirs() -> None:
    """Remove the task directories of server processes that are gone (killed before they could clean up)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_TASK_PREFIX}*-*"):
        try:
            pid = int(path.name[len(_TASK_PREFIX):].split("-", 1)[0])
            os.kill(pid, 0)
        except ValueError:
            continue
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue


def warm() -> None:
    """Start the fork server and the workers now (the first upload would otherwise wait a second or two for them)."""
    run(__name__, "_ping", (), {})


def _ping() -> int:
    return os.getpid()


def stop() -> None:
    """Stop the pool's workers (at exit, and when the limits change)."""
    with _lock:
        _stop_locked()


def _stop_locked() -> None:
    global _pool, _pool_limits
    if _pool is not None:
        _pool.stop()
        _pool.join(timeout=5)
        _pool, _pool_limits = None, None


atexit.register(stop)


# ------------------------------------------------------------------------------------------------------ in the worker
def _start_worker(current: Limits) -> None:
    """A new worker: its memory limit, no core files, a lower priority than the server's request threads."""
    global _in_worker, _limits
    _in_worker, _limits = True, current
    resource.setrlimit(resource.RLIMIT_AS, (current.memory_bytes, current.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        os.nice(10)
    except OSError:
        pass


def _execute(module: str, qualname: str, args: tuple, kwargs: dict, current: Limits, task_dir: str) -> Any:
    """One read: CPU time limited to what this task may use (the worker's CPU clock counts all its tasks), SQLite
    reads of uploaded files interrupted at the deadline, temporary files in the server's task directory."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    soft = int(math.ceil(spent + current.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))  # SIGXCPU at soft ends the worker
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    fn = getattr(obj, "__wrapped__", obj)
    _deadline.value = time.monotonic() + current.seconds
    tempfile.tempdir = task_dir  # every TemporaryDirectory() of the readers goes there
    try:
        return fn(*args, **kwargs)
    finally:
        _deadline.value = None
        tempfile.tempdir = None


class _Deadline(threading.local):
    value: float | None = None


_deadline = _Deadline()


def deadline() -> float:
    """When the current read must end (time.monotonic()): the task's own deadline in a worker, else the configured
    limit from now. Readers of uploaded files through SQLite interrupt their statements then (store.kitfile)."""
    return _deadline.value if _deadline.value is not None else time.monotonic() + _limits.seconds
