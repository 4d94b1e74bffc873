"""Macro search: typos, unfinished words, Chinese and Japanese without spaces, titles over bodies."""

from __future__ import annotations

from macros.model import Macro
from macros.search import MacroIndex, words


def macro(key: str, title: dict[str, str], body: dict[str, str], tags: tuple[str, ...] = ()) -> Macro:
    return Macro(key=key, titles=title, bodies=body, tags=tags)


LIBRARY = [
    macro(
        "where-is-my-order", {"en": "Where is my order?", "zh_Hans": "我的订单在哪里？"}, {"en": "Your parcel left."}
    ),
    macro("refund-issued", {"en": "Refund issued", "zh_Hans": "已退款"}, {"en": "We refunded your order today."}),
    macro(
        "damaged-item",
        {"en": "Damaged item", "zh_Hans": "商品损坏"},
        {"en": "Sorry the lamp arrived broken."},
        ("damage",),
    ),
]


def keys(query: str, locales: tuple[str, ...] = ("en",)) -> list[str]:
    return [hit.macro.key for hit in MacroIndex(LIBRARY, locales).search(query)]


def test_typos_and_unfinished_words_find_the_macro() -> None:
    assert keys("refnud")[0] == "refund-issued"
    assert keys("dama")[0] == "damaged-item"


def test_a_title_word_outranks_the_same_word_in_a_body() -> None:
    assert keys("order")[0] == "where-is-my-order"


def test_chinese_is_found_without_spaces() -> None:
    assert keys("订单", ("en", "zh_Hans"))[0] == "where-is-my-order"
    assert words("商品损坏了") == ["商品", "品损", "损坏", "坏了"]


def test_nothing_to_search_finds_nothing() -> None:
    assert keys("") == [] and keys("xyzzy qwerty") == []
