"""Cached answers that several app processes share: a small in-process LRU in front of an optional Redis.

The map layers and the OGC API's feature indexes are computed once per registry state: their keys carry the
registry's change stamp, read from the database every request, so a cached value is never stale, in one process or
in many. With one process the in-process LRU is all there is. With several (``make run WORKERS=4``) and REDIS_URL set,
a value one process computed is stored in Redis (pickled, for an hour) and the others load it instead of computing it
again. Redis is a cache here, never the record: if it is unreachable, values are computed locally and the app goes
on. Pickles are only ever read from the operator's own Redis, which must be reachable by nobody else
(docs/scale-out.md).
"""
from __future__ import annotations

import hashlib
import logging
import pickle
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

log = logging.getLogger(__name__)
TTL_S = 3600
_redis = None
_redis_url: str | None = None
_redis_lock = threading.Lock()


def configure(url: str | None) -> None:
    """Use the Redis at ``url`` as the shared level (None: in-process only)."""
    global _redis, _redis_url
    with _redis_lock:
        if url == _redis_url:
            return
        _redis_url, _redis = url, None
        if url:
            import redis

            _redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _redis_key(key: Hashable) -> str:
    return "fossil-registry:cache:" + hashlib.sha256(repr(key).encode()).hexdigest()


class Cache:
    """An LRU of ``size`` values per process; computations of one key wait for each other instead of repeating."""

    def __init__(self, size: int):
        self.size = size
        self.values: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.RLock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
            value = self._shared(key, build)
            self.values[key] = value
            while len(self.values) > self.size:
                self.values.popitem(last=False)
            return value

    def clear(self) -> None:
        with self.lock:
            self.values.clear()

    @staticmethod
    def _shared(key: Hashable, build: Callable[[], Any]) -> Any:
        client = _redis
        if client is None:
            return build()
        name = _redis_key(key)
        try:
            data = client.get(name)
            if data is not None:
                return pickle.loads(data)
        except Exception as exc:  # a cache that is down costs time, never an answer
            log.warning("shared cache unavailable (%s): computing locally", exc)
            return build()
        value = build()
        try:
            client.set(name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), ex=TTL_S)
        except Exception as exc:
            log.warning("shared cache unavailable (%s): value kept in this process only", exc)
        return value
