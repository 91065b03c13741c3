"""Unit tests of raw text -> words (search/query.py) and of the typo rules (search/fuzzy.py)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.fuzzy import Vocabulary, match_word, term_typos, typo_distance
from search.highlight import crop_highlight, highlight
from search.query import (
    MAX_WORD_CHARS,
    QueryWord,
    allowed_typos,
    camel_parts,
    query_words,
    tag_key,
    tag_search_words,
    tokens,
    word_spans,
)


def texts(q: str) -> list[str]:
    return [word.text for word in query_words(q)]


@pytest.mark.parametrize(
    ("word", "typos"),
    [("", 0), ("a", 0), ("hony", 0), ("honey", 1), ("lethers", 1), ("abcdefgh", 1), ("handkerch", 2)],
)
def test_typo_budget_follows_word_length(word: str, typos: int) -> None:
    assert allowed_typos(word) == typos


def test_words_are_casefolded_accent_free_and_nfkc() -> None:
    assert texts("Café CRÈME Straße") == ["cafe", "creme", "strasse"]
    assert texts("ＬＥＡＴＨＥＲ ﬁne") == ["leather", "fine"]
    assert tokens("Crème brûlée, 2 pots!") == ["creme", "brulee", "2", "pots"]


def test_syntax_characters_only_separate_words() -> None:
    raw = '"vint*" -leather NEAR(a:b) OR ~x^2 \\ \x00 😀jam'
    assert texts(raw) == ["vint", "leather", "near", "a", "b", "or", "x", "2", "jam"]


def test_only_the_last_word_is_a_prefix_and_only_when_nothing_follows() -> None:
    assert query_words("vintage lea") == (QueryWord("vintage"), QueryWord("lea", prefix=True))
    assert query_words("vintage lea ") == (QueryWord("vintage"), QueryWord("lea"))
    assert query_words("vintage lea!")[-1].prefix is False


def test_hashtags_are_recognised_and_searched_as_words() -> None:
    assert query_words("#SocialCause") == (QueryWord("socialcause", hashtag=True, prefix=True),)
    assert query_words("＃Vintage mug")[0] == QueryWord("vintage", hashtag=True)
    assert query_words("a#b")[1] == QueryWord("b", hashtag=True, prefix=True)


def test_at_most_ten_words_are_kept() -> None:
    words = query_words(" ".join(f"w{n}" for n in range(15)))
    assert [word.text for word in words] == [f"w{n}" for n in range(10)]
    assert not words[-1].prefix  # more text follows the tenth word


def test_very_long_words_are_cut_and_long_input_is_fine() -> None:
    words = query_words("x" * 10_000 + " " + "leather " * 2000)
    assert len(words[0].text) == MAX_WORD_CHARS
    assert len(words) == 10


def test_tags_have_canonical_keys_and_camel_case_words() -> None:
    assert tag_key("#MabelsHoney") == "mabelshoney"
    assert tag_key("＃Café") == "café"
    assert camel_parts("#HTMLParser2Go") == ["HTML", "Parser", "2", "Go"]
    assert tag_search_words(("#LiveEvent", "#vintage"), ("liveevent", "vintage", "extra")) == (
        "liveevent live event",
        "vintage",
        "extra",
    )


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_highlight_spans_agree_with_the_index_tokenizer(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    spans = [word for _, _, words in word_spans(nfc) for word in words]
    assert spans == tokens(text)


def test_typo_distance_counts_a_swap_as_one() -> None:
    assert typo_distance("leahter", "leather", 1, prefix=False) == 1
    assert typo_distance("lethar", "leather", 1, prefix=False) is None
    assert typo_distance("iphoe", "iphone", 1, prefix=True) == 1
    assert typo_distance("vint", "vintage", 0, prefix=True) == 0
    assert typo_distance("vint", "vintage", 0, prefix=False) is None


def test_first_letter_typo_needs_a_budget_of_two_and_counts_two() -> None:
    assert term_typos("caturday", "saturday", 1, prefix=False) is None
    assert term_typos("xomputers", "computers", 2, prefix=False) == 2
    assert term_typos("omputers", "computers", 2, prefix=False) == 2  # first letter dropped
    assert term_typos("computres", "computers", 2, prefix=False) == 1


def test_match_word_expands_to_terms_with_their_typos() -> None:
    vocabulary = Vocabulary(["vintage", "vintages", "vantage", "saturday", "computers", "jam"])
    vint = match_word(vocabulary, QueryWord("vintag", prefix=True))
    assert vint.typos == {"vintage": 0, "vintages": 0, "vantage": 1}
    assert match_word(vocabulary, QueryWord("caturday")).typos == {}
    assert match_word(vocabulary, QueryWord("xomputers")).typos == {"computers": 2}
    assert match_word(vocabulary, QueryWord("ja")).typos == {}  # finished word, not a prefix
    narrowed = match_word(vocabulary, QueryWord("vintage", prefix=True), within=vint.typos)
    assert narrowed.typos == {"vintage": 0, "vintages": 0, "vantage": 1}


def test_highlight_escapes_and_marks_whole_words() -> None:
    assert highlight("Crème <b>brûlée</b> & co", {"creme", "brulee"}) == (
        "<mark>Crème</mark> &lt;b&gt;<mark>brûlée</mark>&lt;/b&gt; &amp; co"
    )


def test_crop_keeps_about_thirty_words_around_the_first_match() -> None:
    text = " ".join(f"w{n}" for n in range(100))
    cropped = crop_highlight(text, {"w70"})
    assert cropped.startswith("…") and cropped.endswith("…")
    assert "<mark>w70</mark>" in cropped
    assert len(cropped.split()) == 30
    assert crop_highlight("short text", set()) == "short text"
    assert crop_highlight(text, set()).startswith("w0 w1")
