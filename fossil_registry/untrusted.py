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
import threading
import time
from concurrent.futures import CancelledError, TimeoutError as FutureTimeout
from dataclasses import dataclass
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
    space of the worker in bytes, the number of workers, and how long a read may wait for a free worker."""

    seconds: float = 30.0
    cpu_seconds: float = 30.0
    memory_bytes: int = 1536 * MiB
    workers: int = 2
    queue_seconds: float = 30.0


class FileTooSlow(InvalidInput):
    """The file took longer to read (or more memory) than any upload may: its reader was stopped."""


class ReadersBusy(Unavailable):
    """Every reader was busy with other uploads for longer than a read may wait: try again shortly."""


_limits = Limits()
_pool = None
_pool_limits: Limits | None = None
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
    """Run module.qualname(*args, **kwargs) in a worker within the limits; its domain errors are raised here."""
    from pebble import ProcessExpired

    current = _limits
    future = _get_pool(current).schedule(_execute, args=(module, qualname, args, kwargs, current),
                                         timeout=current.seconds)
    started = time.monotonic()
    while True:  # wait for a free worker (bounded), then for the read itself (pebble's timeout ends it)
        try:
            return future.result(timeout=0.05 if not future.running() else current.seconds + 5)
        except FutureTimeout:  # (the same class as TimeoutError, which pebble sets when a task overruns)
            if future.done():  # the task overran its wall-clock limit: its worker was killed and replaced
                raise too_slow(current) from None
            if not future.running() and time.monotonic() - started > current.queue_seconds:
                if future.cancel():
                    raise ReadersBusy(msg("untrusted.readers_busy", "the server is reading other uploaded files: "
                                          "try again in a minute"), retry_after=60) from None
        except ProcessExpired:  # the worker died: its CPU limit (SIGXCPU), memory, or a crash in a C library
            raise too_slow(current) from None
        except MemoryError:
            raise too_slow(current) from None
        except CancelledError:
            raise too_slow(current) from None


def too_slow(current: Limits | None = None) -> FileTooSlow:
    current = current or _limits
    return FileTooSlow(msg("untrusted.file_too_slow", "the file took too long to read (more than {seconds:g} s or "
                           "{memory_mb:,} MB); it may be damaged or built to stall the server. Save it again from "
                           "your GIS (for a GeoPackage: export the layer to a new file) and upload that",
                           seconds=current.seconds, memory_mb=current.memory_bytes // MiB))


def _get_pool(current: Limits):
    global _pool, _pool_limits
    with _lock:
        if _pool is None:
            from pebble import ProcessPool

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _pool = ProcessPool(max_workers=current.workers, initializer=_start_worker, initargs=(current,),
                                context=context)
            _pool_limits = current
        return _pool


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


def _execute(module: str, qualname: str, args: tuple, kwargs: dict, current: Limits) -> Any:
    """One read: CPU time limited to what this task may use (the worker's CPU clock counts all its tasks), SQLite
    reads of uploaded files interrupted at the deadline."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    soft = int(math.ceil(spent + current.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))  # SIGXCPU at soft ends the worker
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    fn = getattr(obj, "__wrapped__", obj)
    _deadline.value = time.monotonic() + current.seconds
    try:
        return fn(*args, **kwargs)
    finally:
        _deadline.value = None


class _Deadline(threading.local):
    value: float | None = None


_deadline = _Deadline()


def deadline() -> float:
    """When the current read must end (time.monotonic()): the task's own deadline in a worker, else the configured
    limit from now. Readers of uploaded files through SQLite interrupt their statements then (store.kitfile)."""
    return _deadline.value if _deadline.value is not None else time.monotonic() + _limits.seconds
