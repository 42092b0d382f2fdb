"""A feature's age as a person reads it: the registry stores ages as written with the international
chronostratigraphic chart's English names ("Late Triassic (Carnian)", "Cambrian, Miaolingian (Wuliuan)"); a Chinese
reader reads the chart's Chinese names (晚三叠世（卡尼期）, 寒武纪苗岭世（乌溜期）), from vocab.Period and vocab.TimeUnit.
An age whose words are not all known stays as written in both languages (never half translated)."""
from __future__ import annotations

import re
from functools import lru_cache

from .messages import Label
from .vocab import Period, TimeUnit

_SUBDIVISIONS = {"early": "早", "middle": "中", "late": "晚", "latest": "最晚"}
_PERIODS = {p.value: p.label.zh for p in Period}
_UNITS = {u.value: u.label.zh for u in sorted(TimeUnit, key=lambda u: -len(u.value))}
_WORDS = {"transition": "过渡期", "boundary": "界线"}


def _epoch(match: re.Match) -> str:
    """"Early-Middle Triassic" -> 早—中三叠世: the epochs of a period are named with 世 instead of 纪."""
    first, second, period = match.group(1), match.group(2), match.group(3)
    if first.lower() == "latest":  # the end of a period: 泥盆纪末期
        return _PERIODS[period] + "末期"
    names = _SUBDIVISIONS[first.lower()] + ("—" + _SUBDIVISIONS[second.lower()] if second else "")
    return names + _PERIODS[period].removesuffix("纪") + "世"


@lru_cache(maxsize=1024)
def chinese_age(text: str) -> str | None:
    """The Chinese of an age, or None when a word of it is not in the chart's names."""
    zh = text
    periods = "|".join(_PERIODS)
    zh = re.sub(rf"\b(Early|Middle|Late|Latest|early|middle|late)(?:-(Early|Middle|Late|early|middle|late))? "
                rf"({periods})\b", _epoch, zh)
    zh = re.sub(r"\bSeries (\d)-(\d)\b", lambda m: f"第{'一二三四'[int(m.group(1)) - 1]}—"
                f"{'一二三四'[int(m.group(2)) - 1]}世", zh)
    for english, chinese in _UNITS.items():
        zh = re.sub(rf"\b{re.escape(english)}\b", chinese, zh)
    for english, chinese in _PERIODS.items():
        zh = re.sub(rf"\b{english}\b", chinese, zh)
    for english, chinese in _WORDS.items():
        zh = re.sub(rf" ?\b{english}\b", chinese, zh)
    zh = re.sub(r"\bc\. ?(\d[\d,.]*) ?Ma\b", r"约 \1 百万年前", zh)
    zh = zh.replace(" (", "（").replace("(", "（").replace(")", "）").replace(", ", "").replace("-", "—")
    zh = re.sub(r"(?<=[\u4e00-\u9fff）]) (?=[\u4e00-\u9fff（])", "", zh)
    return None if re.search(r"[A-Za-z]", zh) else zh


def age_label(text: str | None) -> Label | str | None:
    """An age as a Label (English as stored, and its Chinese), or the text itself when it is not wholly known."""
    if not text or not isinstance(text, str):
        return text
    zh = chinese_age(text)
    return text if zh is None else Label(f"age.{text}", text, zh)
