"""fossil_registry.vocab: each vocabulary once, with both languages; what is derived from it agrees with it."""
from __future__ import annotations

import pickle

import pytest

from fossil_registry import vocab
from fossil_registry.messages import Gettext, from_record, render


@pytest.mark.parametrize("vocabulary", vocab.VOCABULARIES, ids=lambda v: v.__name__)
def test_every_value_has_both_labels_and_distinct_words(vocabulary):
    seen = {}
    for member in vocabulary:
        assert member.label.zh and str(member.label)
        for word in (member.value, str(member.label), member.label.zh, *member.synonyms):
            key = vocab._key(word)
            assert seen.setdefault(key, member) is member, f"{word!r} means both {seen[key]} and {member}"
            assert vocabulary.parse(word) is member


def test_a_member_is_its_stored_string():
    assert vocab.Level.NATIONAL == "national" and {"national": 1}[vocab.Level.NATIONAL] == 1
    assert f"{vocab.Sensitivity.HIDDEN}" == "hidden" and vocab.Level.get("nope") is None
    assert vocab.Level.check_sql("level") == "level IN ('national', 'provincial', 'general')"
    assert vocab.Level.schema()["enum"] == ["national", "provincial", "general"]


def test_a_label_renders_in_the_readers_language_even_stored_and_restored():
    label = vocab.Threat.QUARRYING.label
    assert render(label, Gettext(lambda s: s, "zh")) == "采石" and render(label, Gettext(lambda s: s, "en")) == "quarrying"
    assert render(from_record(label.as_record()), Gettext(lambda s: s, "zh")) == "采石"
    assert pickle.loads(pickle.dumps(label)).zh == "采石"
    assert vocab.Level.PROVINCIAL.bilingual == "省级重点保护产地 provincial key site"


def test_parse_ignores_case_width_and_spacing_and_refuses_other_words():
    assert vocab.Sensitivity.parse("Generalised") is vocab.Sensitivity.GENERALIZED
    assert vocab.Level.parse(" 省级 ") is vocab.Level.PROVINCIAL
    assert vocab.Period.parse("Ｔｒｉａｓｓｉｃ") is vocab.Period.TRIASSIC
    assert vocab.Level.parse("county") is None and vocab.Level.parse("") is None
