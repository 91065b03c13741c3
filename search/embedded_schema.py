"""The tantivy schema of the embedded engine and the document conversions.

Searchable text is normalized in Python (`search.query.tokens`) and stored as
space-separated words, indexed with tantivy's whitespace tokenizer: the index then holds
exactly the words the query side produces, so term sets built in Python match.
The searchable fields are stored because ranking reads word positions from them.
Filter fields are raw (untokenized) terms; the facet fields are also fast fields.

One more field holds each document's adjacent word pairs (`pair_terms`), so that "these
two words next to each other" is a lookup in the term dictionary rather than a phrase query:
see `search.embedded_queries.adjacent_query` for why that matters.
"""

from __future__ import annotations

import json
from itertools import pairwise

import msgspec
import tantivy

from search.documents import ItemDocument, document_from_dict, document_to_dict
from search.query import tag_search_words, tokens
from search.ranking import DocumentWords

SCHEMA_VERSION = "2"  # 2: the adjacent word pairs
FILLER = "|"  # a token no query word can equal (query words are letters and digits)
# Between two hashtags of one item, so their words are never "close" (proximity > 7)
# for the Python ranking nor adjacent for tantivy phrase queries and word pairs.
VALUE_GAP = " " + " ".join([FILLER] * 8) + " "

# Searchable fields, in Meilisearch's attribute rank order (title ranks highest).
TEXT_FIELDS = ("title", "tags", "stall", "description")
# Short prefixes ("l", "le", "lea") match hundreds of words; a query built from all of
# them is slow to evaluate, so each field also indexes its words' short prefixes.
MAX_INDEXED_PREFIX = 3
PREFIX_FIELDS = {field: f"{field}_prefixes" for field in TEXT_FIELDS}
# Every two adjacent words of one field as one term, "first_second" (all fields together).
# A pair's terms sort by first word and then second, so the pairs of "seasonal" followed by
# any word starting with "c" are one range of the term dictionary ("seasonal_c.*").
PAIR_FIELD = "pairs"
PAIR_JOINER = "_"  # never inside a word: words are runs of letters and digits
_DOCUMENT = msgspec.json.Decoder(ItemDocument)  # the stored JSON copy, written by document_to_dict


def build_schema() -> tantivy.Schema:
    """The index layout; bump SCHEMA_VERSION when it changes."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("event_id", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("stall_id", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("state", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("tag_keys", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("causes", tokenizer_name="raw", index_option="basic")
    builder.add_boolean_field("hidden", indexed=True)
    builder.add_integer_field("price", stored=True, indexed=True, fast=True)
    builder.add_integer_field("created_at", stored=True, indexed=True, fast=True)
    for field in TEXT_FIELDS:
        builder.add_text_field(field, stored=True, tokenizer_name="whitespace", index_option="position")
        builder.add_text_field(PREFIX_FIELDS[field], tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field(PAIR_FIELD, tokenizer_name="whitespace", index_option="basic")
    builder.add_bytes_field("doc", stored=True)
    return builder.build()


def to_tantivy(doc: ItemDocument) -> tantivy.Document:
    """One tantivy document: filter terms, normalized searchable words, the JSON copy."""
    out = tantivy.Document()
    out.add_text("id", doc.id)
    out.add_text("event_id", doc.event_id)
    out.add_text("stall_id", doc.stall_id)
    out.add_text("state", doc.state)
    for key in doc.tag_keys:
        out.add_text("tag_keys", key)
    for cause in doc.causes:
        out.add_text("causes", cause)
    out.add_boolean("hidden", doc.hidden)
    out.add_integer("price", doc.price)
    out.add_integer("created_at", doc.created_at)
    texts = {
        "title": " ".join(tokens(doc.title)),
        "tags": VALUE_GAP.join(tag_search_words(doc.hashtags, doc.tag_keys)),
        "stall": " ".join(tokens(doc.stall_name)),
        "description": " ".join(tokens(doc.description)),
    }
    pairs: set[str] = set()
    for field, text in texts.items():
        words = text.split()
        out.add_text(field, text)
        out.add_text(PREFIX_FIELDS[field], " ".join(short_prefixes(words)))
        pairs.update(pair_terms(words))
    out.add_text(PAIR_FIELD, " ".join(pairs))
    out.add_bytes("doc", json.dumps(document_to_dict(doc), separators=(",", ":")).encode())
    return out


def short_prefixes(words: list[str]) -> set[str]:
    """The distinct 1..MAX_INDEXED_PREFIX character prefixes of the words."""
    distinct = set(words)
    distinct.discard(FILLER)
    return {word[:length] for length in range(1, MAX_INDEXED_PREFIX + 1) for word in distinct}


def pair_terms(words: list[str]) -> set[str]:
    """The distinct pairs of adjacent words of one field (a filler, between two hashtags, is no word)."""
    return {pair_term(first, second) for first, second in pairwise(words) if FILLER not in (first, second)}


def pair_term(first: str, second: str) -> str:
    """The term of the word `second` right after the word `first` in one field."""
    return f"{first}{PAIR_JOINER}{second}"


def searchable_words(doc: tantivy.Document) -> set[str]:
    """Every distinct searchable word of a tantivy document (for the vocabulary)."""
    words = {word for field in TEXT_FIELDS for word in str(doc.get_first(field) or "").split()}
    words.discard(FILLER)
    return words


def stored_words(stored: tantivy.Document) -> DocumentWords:
    """The searchable words of a stored document, per field, in position order."""
    return DocumentWords(tuple(str(stored.get_first(field) or "").split() for field in TEXT_FIELDS))


def stored_document(stored: tantivy.Document) -> ItemDocument:
    """The ItemDocument kept in the stored JSON copy.

    Decoded straight into the dataclass by msgspec (every hit of every search goes through
    here): the same document as `document_from_dict(json.loads(raw))`, five times faster.
    """
    raw = stored.get_first("doc")
    if isinstance(raw, bytes | str):
        return _DOCUMENT.decode(raw)
    return document_from_dict({})  # no copy stored: fails like a document missing its fields


def stored_int(stored: tantivy.Document, field: str) -> int:
    """A stored integer field (price, created_at); 0 if absent."""
    value = stored.get_first(field)
    return int(value) if isinstance(value, int) else 0


def stored_id(stored: tantivy.Document) -> str:
    """The stored item id."""
    return str(stored.get_first("id") or "")
