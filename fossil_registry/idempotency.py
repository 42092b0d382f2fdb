"""Idempotency keys of creating requests (the ``Idempotency-Key`` header; the HTTP side is http/idempotency.py).

A client that may send a request twice (an offline queue, a phone that lost the answer) names it with a key of its
own (1 to 255 printable ASCII characters, e.g. a random UUID). The first request with a key is processed and, if it
created something (an answer below 400), its answer is kept for ``keep_hours``; a later request of the same caller
with the same key and the same content gets that answer back and creates nothing; with other content it is refused
(422); while the first is still being processed, 409. A refused or failed first request keeps nothing: the key may
be sent again, corrected.

Who a caller is: ``account:<id>`` for a signed-in account (session or API token); every anonymous caller is
``anonymous``, with nothing about them kept (no address: a phone moving between cells changes it, and a retry from
another address must still be recognised). The key itself is not kept, only its hash; an anonymous replay needs the
same key and the same content, i.e. the whole report it answers."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from . import store
from .errors import Conflict, InvalidInput, RegistryError
from .messages import msg
from .store import idempotency as kstore

MAX_KEY = 255
# A claim with no answer this old was left by a worker that died between the claim and the answer (a time-out, a
# deploy, an out-of-memory kill): no request of the app runs this long (uploads are read in bounded workers, imports
# run as jobs), so a retry of the same request takes the claim over instead of being told 409 for a day. If the dead
# worker had committed its record, the retry makes a second one: the same as after the row's expiry, but within
# minutes rather than a day (an answer kept in the record's own transaction would close that window).
ABANDONED_AFTER = timedelta(minutes=10)
ANONYMOUS = "anonymous"


class BadKey(RegistryError):
    status = 400
    title = "Bad request"


@dataclass(frozen=True)
class Settings:
    keep_hours: float = 24

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Settings":
        return cls(keep_hours=max(24.0, float(config.get("IDEMPOTENCY_KEEP_HOURS", 24))))


@dataclass(frozen=True)
class Answer:
    """A kept first answer: status, the headers that matter, body."""
    status: int
    headers: dict[str, str]
    body: bytes


def check_key(key: str) -> str:
    """``key`` if it is 1 to 255 printable ASCII characters, else BadKey (400)."""
    if not 1 <= len(key) <= MAX_KEY or any(not 0x20 <= ord(ch) <= 0x7E for ch in key):
        raise BadKey(msg("idempotency.bad_key", "the Idempotency-Key header must be 1 to {max} printable ASCII "
                         "characters (e.g. a random UUID)", max=MAX_KEY), field="Idempotency-Key")
    return key


def caller_of(account_id: int | None) -> str:
    return ANONYMOUS if account_id is None else f"account:{account_id}"


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def begin(conn, *, caller: str, key: str, request_hash: str, settings: Settings,
          now: datetime | None = None) -> Answer | None:
    """Claim ``key`` for this request (None: go on and process it), or the kept answer of its first request with the
    same content. Conflict (409) while the first is being processed; InvalidInput (422) for other content."""
    now = now or datetime.now(timezone.utc)
    with store.transaction(conn):
        kstore.purge_expired(conn, _stamp(now))
        found = kstore.claim(conn, caller=caller, key_hash=_key_hash(key), request_hash=request_hash,
                             now=_stamp(now), expires_at=_stamp(now + timedelta(hours=settings.keep_hours)),
                             abandoned_before=_stamp(now - ABANDONED_AFTER))
    if found is None:
        return None
    if found["request_hash"] != request_hash:
        raise InvalidInput(msg("idempotency.other_content", "this Idempotency-Key was used for another request "
                               "(other content or another address): send a new key for a new request"),
                           field="Idempotency-Key")
    if found["status"] is None:
        raise Conflict(msg("idempotency.in_progress", "a request with this Idempotency-Key is still being processed: "
                           "ask again in a moment"), retry_after=1)
    return Answer(found["status"], found["headers"], found["body"])


def keep(conn, *, caller: str, key: str, answer: Answer) -> None:
    """The first answer of a claimed key, kept for its retries."""
    with store.transaction(conn):
        kstore.finish(conn, caller=caller, key_hash=_key_hash(key), status=answer.status, headers=answer.headers,
                      body=answer.body)


def forget(conn, *, caller: str, key: str) -> None:
    """A claimed key whose request created nothing: free again."""
    with store.transaction(conn):
        kstore.release(conn, caller=caller, key_hash=_key_hash(key))
