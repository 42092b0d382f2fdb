"""Search as people type at 10,000 sites: time to build the index (once per registry state) and per-query times.

Builds 10,000 search entries with Chinese place names made of the characters Guizhou's county and township names use
(two to six characters, so polyphones and shared prefixes occur as they do in real names), English names and codes,
then times SearchIndex construction and queries of each kind people type: a code, a Chinese prefix, full pinyin with
and without spaces, tone-marked pinyin, initials, an English word, a substring, a miss. Prints figures; asserts
nothing. Run: .venv/bin/python bench/bench_search.py [--sites 10000] [--queries 200]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fossil_registry.search import Entry, SearchIndex, pinyin_forms  # noqa: E402

CHARS = ("关岭兴义盘州凯里瓮安贞丰安顺都匀遵义毕节铜仁六盘水黔西南东北罗甸平塘独山三都荔波福泉麻江丹寨雷山台江剑河"
         "锦屏天柱黎平榕江从江施秉镇远岑巩三穗思南石阡印江沿河德江松桃万山碧江新铺卧龙岗黄土塘永宁岔江龙场牛场"
         "乌蒙化石点")
SUFFIX = ("化石点", "生物群", "剖面", "采掘点", "新发现点", "")


def entries(n: int, rng: random.Random) -> list[Entry]:
    out = []
    for i in range(n):
        name = "".join(rng.choice(CHARS) for _ in range(rng.randint(2, 4))) + rng.choice(SUFFIX)
        out.append(Entry("site", f"GZ-{i + 1:05d}", (name, f"Site {i + 1} {rng.choice(['Biota', 'Section', 'Quarry'])}")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(18)
    items = entries(args.sites, rng)
    builds = []
    for _ in range(3):
        t0 = time.perf_counter()
        index = SearchIndex(items)
        builds.append(time.perf_counter() - t0)
    print(f"{args.sites:,} sites: index build {builds[0] * 1000:.0f} ms cold (names' pinyin computed), "
          f"{statistics.median(builds[1:]) * 1000:.0f} ms rebuilt after a change (names' pinyin cached)")
    samples = rng.sample(items, args.queries)

    def pinyin(e, spaced=False):
        full, _ = pinyin_forms(e.names[0])
        return full if not spaced else " ".join(full[i:i + 4] for i in range(0, len(full), 4))
    kinds = {
        "code": lambda e: e.code,
        "chinese prefix": lambda e: e.names[0][:2],
        "full pinyin": lambda e: pinyin(e),
        "pinyin with spaces": lambda e: pinyin(e, True),
        "pinyin prefix (typing)": lambda e: pinyin(e)[:4],
        "initials": lambda e: pinyin_forms(e.names[0])[1][:3],
        "english word": lambda e: e.names[1].split()[-1],
        "substring": lambda e: e.names[0][1:3],
        "miss": lambda e: "zzqx",
    }
    print(f"{'query kind':<24}{'p50 ms':>9}{'p95 ms':>9}{'hits':>7}")
    for label, make in kinds.items():
        times, hits = [], 0
        for e in samples:
            q = make(e)
            t0 = time.perf_counter()
            found = index.query(q, limit=20)
            times.append(time.perf_counter() - t0)
            hits += bool(found)
        times.sort()
        p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95) - 1]
        print(f"{label:<24}{p50 * 1000:>9.2f}{p95 * 1000:>9.2f}{hits / len(samples):>7.0%}")


if __name__ == "__main__":
    main()
