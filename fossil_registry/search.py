"""Search as people type: every registered feature's code and names in Chinese and English, full pinyin with or
without spaces, tone marks or tone numbers (guanling, guan ling, guān lǐng, guan1ling3) and pinyin
initials (gl) find 关岭 — how most people type a place name on a phone or a keyboard without a Chinese input method.

An index is built once per registry state and audience (the caller of `map_layers.search_index` caches it by
`features.change_stamps`, the stamps of every registered kind), never per keystroke: every searchable term of
every entry is folded once and kept in one sorted list, so a prefix query is a binary search; only a query with too
few prefix hits scans for substrings. Ranking: exact code, then code or name prefix (Chinese, English or full pinyin),
then pinyin-initials prefix, then a substring anywhere; ties go by code.

No Flask, no SQL: entries come from the caller (for anonymous callers, only from public_view's output), so what is
searchable is exactly what the caller may see. Every registered kind of feature (features.kinds()) gives its own
`Entry` list (map_layers.feature_entries): a new kind is searchable once registered.
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from typing import Any, Iterable, Sequence

from .errors import InvalidInput
from .messages import msg

MAX_QUERY = 100
EXACT_CODE, PREFIX, INITIALS, SUBSTRING = range(4)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SEPARATORS = re.compile(r"[\s'’·\-_.,，、]+")
_TONE_DIGITS = re.compile(r"(?<=[a-zü])[1-5]")


@dataclass(frozen=True)
class Entry:
    """One searchable feature: its kind ("site", ...), its code, its names (any language) and what a hit returns."""

    kind: str
    code: str
    names: tuple[str, ...]
    payload: Any = field(default=None, compare=False)


def fold(text: str) -> str:
    """Case, width and accents folded; ü kept apart as v (lü -> lv, as pinyin keyboards type it)."""
    if (text or "").isascii():
        return (text or "").lower().replace("u:", "v")
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    text = text.replace("u\u0308", "v").replace("u:", "v")
    # every character with a combining class (accents...) dropped: as fast as str.translate with a table of them,
    # whose making (131,072 code points looked up) was 0.1 s of the server's start
    return "".join(c for c in text if not unicodedata.combining(c))


def compact(text: str) -> str:
    """Folded, without separators and tone numbers: what pinyin is compared as ("Guān Lǐng" -> "guanling")."""
    return _TONE_DIGITS.sub("", _SEPARATORS.sub("", fold(text)))


MAX_VARIANTS = 16  # readings indexed per name with polyphonic characters (长顺: changshun and zhangshun)


_NOT_READ = re.compile(r"\s+")


def pinyin_variants(name: str) -> tuple[tuple[str, str], ...]:
    """(full pinyin, initials) of a name's readings: those of its characters that have readings, with every run of the
    others (digits, letters, punctuation) as one space, which separates phrases as they did; so that 关岭化石点12 and
    关岭化石点13 are read once (the read model reads every name of a national registry)."""
    # pypinyin's dictionaries (~0.9 s to import) are read by the first write of a name, not by the server's start:
    # searching reads the terms the writes stored (read_model), and folds what was typed without them
    from pypinyin.pinyin_dict import pinyin_dict

    skeleton = _NOT_READ.sub(" ", "".join(c if ord(c) in pinyin_dict else " " for c in name or "")).strip()
    return _pinyin_variants(skeleton)


@lru_cache(maxsize=65536)  # names change far less often than the registry state: a rebuilt index reuses them
def _pinyin_variants(name: str) -> tuple[tuple[str, str], ...]:
    """(full pinyin, initials) of a name's readings, the likeliest first: 关岭 -> (("guanling", "gl"),); () without
    Chinese characters. Characters with one reading are looked up one by one (a dictionary access). A character with
    several readings (长, 都, 重...) makes pypinyin's phrase segmentation pick the likeliest one (~100 times slower), and
    the other readings are indexed too, since place names keep old readings no dictionary knows (都匀 is Duyun)."""
    if not _HAN.search(name or ""):
        return ()
    from pypinyin import Style, lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    readings: list[list[str]] = []
    polyphonic = False
    for char in name:
        found = pinyin_dict.get(ord(char))
        if found is None:
            continue
        options = list(dict.fromkeys(r for r in (compact(x) for x in found.split(",")) if r))
        polyphonic |= len(options) > 1
        readings.append(options)
    variants = []
    if polyphonic:
        likeliest = [r for r in (compact(x) for x in lazy_pinyin(name, style=Style.NORMAL, errors="ignore")) if r]
        variants.append(likeliest)
    for combo in product(*readings):
        if len(variants) >= MAX_VARIANTS:
            break
        variants.append(list(combo))
    out = dict.fromkeys(("".join(v), "".join(s[0] for s in v)) for v in variants)
    return tuple(out)


def pinyin_forms(name: str) -> tuple[str, str] | None:
    """The likeliest (full pinyin, initials) of a name: 关岭 -> ("guanling", "gl"); None without Chinese characters."""
    variants = pinyin_variants(name)
    return variants[0] if variants else None


def entry_terms(code: str, names: Iterable[str]) -> tuple[list[tuple[str, int, bool]], str]:
    """The searchable terms of one entry, (term, tier, whether it is the code), and the text searched for substrings:
    the folded code, each name folded and compacted, every pinyin reading in full (PREFIX) and as initials (INITIALS).
    Shared by the in-memory index and the store's (read_model)."""
    folded_code = fold(code)
    terms = [(folded_code, PREFIX, True)]
    words = [folded_code]
    for name in names:
        if not name:
            continue
        folded = fold(name)
        terms.append((folded, PREFIX, False))
        terms.append((compact(name), PREFIX, False))
        words.append(folded)
        for full, initials in pinyin_variants(name):
            terms.append((full, PREFIX, False))
            terms.append((initials, INITIALS, False))
            words.append(full)
    return list(dict.fromkeys(terms)), "\n".join(words)


def check_query(text: str) -> tuple[str, str]:
    """(folded, compacted) of what was typed; too long a text is refused."""
    q = (text or "").strip()
    if len(q) > MAX_QUERY:
        raise InvalidInput(msg("search.query_too_long", "the search text is too long ({limit} characters at most)",
                               limit=MAX_QUERY))
    return fold(q), compact(q)


class SearchIndex:
    """Entries and their folded terms, built once; `query` answers in a few binary searches."""

    def __init__(self, entries: Iterable[Entry]):
        self.entries: list[Entry] = list(entries)
        prefix_terms: list[tuple[str, int, int]] = []  # (term, tier, entry index)
        self._haystacks: list[str] = []
        for i, entry in enumerate(self.entries):
            terms, haystack = entry_terms(entry.code, entry.names)
            prefix_terms.extend((term, tier, i) for term, tier, _ in terms)
            self._haystacks.append(haystack)
        prefix_terms.sort()
        self._terms = [t for t, _, _ in prefix_terms]
        self._hits = [(tier, i) for _, tier, i in prefix_terms]
        self._codes = {fold(e.code): i for i, e in enumerate(self.entries)}

    def __len__(self) -> int:
        return len(self.entries)

    def query(self, text: str, *, limit: int = 20, kinds: Sequence[str] | None = None) -> list[Entry]:
        """The best `limit` entries for what was typed (optionally of some kinds only)."""
        folded, packed = check_query(text)
        if not packed:
            return []
        best: dict[int, int] = {}

        def offer(i: int, tier: int) -> None:
            if kinds is None or self.entries[i].kind in kinds:
                if tier < best.get(i, SUBSTRING + 1):
                    best[i] = tier

        if folded in self._codes:
            offer(self._codes[folded], EXACT_CODE)
        for key in {folded, packed}:
            start = bisect_left(self._terms, key)
            for n in range(start, len(self._terms)):
                if not self._terms[n].startswith(key):
                    break
                offer(self._hits[n][1], self._hits[n][0])
        if len(best) < limit:  # few prefix hits: look inside names (slower, so only then)
            for i, hay in enumerate(self._haystacks):
                if i not in best and (folded in hay or (len(packed) > 1 and packed in hay)):
                    offer(i, SUBSTRING)
        ranked = sorted(best.items(), key=lambda kv: (kv[1], self.entries[kv[0]].code))
        return [self.entries[i] for i, _ in ranked[:limit]]


__all__ = ["Entry", "SearchIndex", "fold", "compact", "pinyin_forms", "pinyin_variants", "MAX_QUERY", "entry_terms",
           "check_query", "EXACT_CODE", "PREFIX", "INITIALS", "SUBSTRING"]
