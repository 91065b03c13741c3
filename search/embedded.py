"""The default search engine: a tantivy index in a local folder, no server to run.

Blocking tantivy calls run in worker threads so the event loop keeps serving; writes are
serialised by an asyncio.Lock (tantivy allows one writer) and each `index()`/`delete()`
call is one commit, after which the reader is reloaded, so a search issued after the
call returns sees the change (read-your-writes).

Several processes on one machine may open the same folder: one writes (see `search.machine`),
the others open it `read_only`. A reader notices the writer's commits by the index's
`meta.json`, which tantivy replaces on every commit: one `stat` per search, and the searcher
is reloaded only when it changed. A reader never wipes or creates the folder; until the writer
has built it, searching there fails with `IndexNotReady`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import tantivy

from search.documents import ItemDocument, SearchRequest, SearchResult, clamp_request
from search.embedded_schema import (
    FILLER,
    SCHEMA_VERSION,
    TEXT_FIELDS,
    build_schema,
    searchable_words,
    to_tantivy,
)
from search.embedded_search import execute
from search.engine import EngineError
from search.fuzzy import Vocabulary, WordMatches, match_word
from search.query import QueryWord, allowed_typos, query_words

log = logging.getLogger(__name__)

WRITER_HEAP_BYTES = 64_000_000
VERSION_FILE = "souk-schema-version"
MATCH_CACHE_SIZE = 256  # expansions of short prefixes can hold thousands of terms
META_FILE = "meta.json"  # tantivy replaces it atomically on every commit


class IndexNotReady(EngineError):
    """A reading process found no index yet: the machine's writer is still building it."""


class EmbeddedEngine:
    """Search engine on a tantivy index stored in `path` (created if missing).

    If the folder holds no index or one of an older schema, it is (wiped and) created empty and
    `recreated` is True: the indexer must then run a full reindex from the database.
    A `read_only` engine opens what the writing process made and follows its commits.
    """

    name = "embedded"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self._path = Path(path)
        self._schema = build_schema()
        self.recreated = False
        self.read_only = read_only
        self._seen_meta: tuple[int, int, int] | None = None
        self._index: tantivy.Index | None = self._open_existing() if read_only else self._open_index()
        self._writer: tantivy.IndexWriter | None = None
        self._write_lock = asyncio.Lock()
        self._index_lock = threading.Lock()  # searcher() and reload() borrow the index
        self._generation = 0
        self._vocabulary: tuple[int, Vocabulary] | None = None
        self._matches: dict[tuple[int, str, bool, bool], dict[str, int]] = {}
        self._closed = False

    @property
    def path(self) -> Path:
        return self._path

    def promote(self) -> None:
        """Become the folder's writer; the caller holds the machine's lease (`search.lease`)."""
        index = self._open_index()
        with self._index_lock:
            self._index = index
            self.read_only = False
            self._generation += 1
            self._vocabulary = None

    def _open_index(self) -> tantivy.Index:
        """Open the index in the folder, creating it if missing or of an outdated schema."""
        self._path.mkdir(parents=True, exist_ok=True)
        version_file = self._path / VERSION_FILE
        exists = tantivy.Index.exists(str(self._path))
        if exists and _read(version_file) != SCHEMA_VERSION:
            log.warning("search index at %s has an old schema: recreating it", self._path)
            shutil.rmtree(self._path)
            self._path.mkdir(parents=True)
        self.recreated = self.recreated or not exists or _read(version_file) != SCHEMA_VERSION
        try:
            index = tantivy.Index(self._schema, path=str(self._path), reuse=True)
        except ValueError:
            # Another layout under this version's name (a development build, a half-copied
            # folder): the index is derived data, so it is rebuilt rather than refusing to start.
            log.warning("search index at %s does not match this schema: recreating it", self._path)
            shutil.rmtree(self._path)
            self._path.mkdir(parents=True)
            self.recreated = True
            try:
                index = tantivy.Index(self._schema, path=str(self._path), reuse=True)
            except ValueError as exc:
                raise EngineError(f"cannot create the search index at {self._path}: {exc}") from exc
        version_file.write_text(SCHEMA_VERSION)
        return index

    def _open_existing(self) -> tantivy.Index | None:
        """For a reader: the writer's index if it is there and of this schema, else None."""
        if _read(self._path / VERSION_FILE) != SCHEMA_VERSION or not tantivy.Index.exists(str(self._path)):
            return None
        try:
            index = tantivy.Index(self._schema, path=str(self._path), reuse=True)
        except ValueError:
            return None
        self._seen_meta = _stamp(self._path / META_FILE)
        return index

    def _follow_writer(self) -> None:
        """In a reader, reload the searcher if the writer committed since the last look."""
        if not self.read_only:
            return
        stamp = _stamp(self._path / META_FILE)
        if stamp is not None and stamp == self._seen_meta and self._index is not None:
            return
        with self._index_lock:
            try:
                if self._index is None:
                    self._index = self._open_existing()
                else:
                    self._index.reload()
                    self._seen_meta = stamp
            except (OSError, ValueError, RuntimeError) as exc:  # the writer is rebuilding the folder
                log.info("search index at %s is changing under a reader: %s", self._path, exc)
                self._index = None
            self._generation += 1
            self._vocabulary = None

    def _open(self) -> tantivy.Index:
        if self._index is None:
            raise IndexNotReady("the search index on this server is still being built; try again in a moment")
        return self._index

    async def ensure_settings(self) -> None:
        """Nothing to do: the schema is fixed when the folder is opened."""
        self._check_open()

    async def index(self, docs: Sequence[ItemDocument]) -> None:
        """Upsert documents in one commit."""
        if not docs:
            return
        async with self._write_lock:
            await self._in_thread(self._index_sync, list(docs))

    async def delete(self, ids: Sequence[str]) -> None:
        """Delete documents by id in one commit."""
        if not ids:
            return
        async with self._write_lock:
            await self._in_thread(self._delete_sync, list(ids))

    async def clear(self) -> None:
        """Delete every document in one commit."""
        async with self._write_lock:
            await self._in_thread(self._clear_sync)

    async def search(self, req: SearchRequest) -> SearchResult:
        """Search one event (see `search.embedded_search` for how ranking is done)."""
        self._check_open()
        return await asyncio.to_thread(self._search_sync, clamp_request(req))

    async def health(self) -> bool:
        """True when the index can be read."""
        if self._closed:
            return False
        try:
            await asyncio.to_thread(self._searcher)
        except (OSError, ValueError, RuntimeError):
            return False
        return True

    async def close(self) -> None:
        """Finish merges and release the writer lock so the folder can be reopened."""
        async with self._write_lock:
            if self._closed:
                return
            self._closed = True
            writer, self._writer = self._writer, None
            if writer is not None:
                await asyncio.to_thread(writer.wait_merging_threads)

    async def _in_thread(self, func: Callable[..., None], *args: object) -> None:
        """Run a write in a worker thread, turning tantivy failures into EngineError."""
        self._check_writable()
        try:
            await asyncio.to_thread(func, *args)
        except Exception as exc:
            raise EngineError(f"embedded search index write failed: {exc}") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise EngineError("the embedded search engine is closed")

    def _check_writable(self) -> None:
        self._check_open()
        if self.read_only:
            raise EngineError("this process only reads the search index; the machine's writer updates it")

    def _index_sync(self, docs: list[ItemDocument]) -> None:
        def upsert(writer: tantivy.IndexWriter) -> set[str]:
            added: set[str] = set()
            for doc in docs:
                converted = to_tantivy(doc)
                added |= searchable_words(converted)
                writer.delete_documents_by_term("id", doc.id)
                writer.add_document(converted)
            return added

        self._write(upsert)

    def _delete_sync(self, ids: list[str]) -> None:
        def delete(writer: tantivy.IndexWriter) -> set[str]:
            for item_id in ids:
                writer.delete_documents_by_term("id", item_id)
            return set()

        self._write(delete)

    def _clear_sync(self) -> None:
        def clear(writer: tantivy.IndexWriter) -> None:
            writer.delete_all_documents()

        self._write(clear)

    def _write(self, apply: Callable[[tantivy.IndexWriter], set[str] | None]) -> None:
        """Apply changes and commit them all, or none: a failure rolls the batch back.

        `apply` returns the words it added to the index (None: the vocabulary must be
        read afresh). After the commit the reader is reloaded, for read-your-writes.
        """
        index = self._open()
        if self._writer is None:
            self._writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
        writer = self._writer
        try:
            added = apply(writer)
            writer.commit()
        except Exception:
            writer.rollback()
            raise
        with self._index_lock:
            index.reload()
            self._generation += 1
            previous, self._vocabulary = self._vocabulary, None
        self._extend_vocabulary(previous, added)

    def _extend_vocabulary(self, previous: tuple[int, Vocabulary] | None, added: set[str] | None) -> None:
        """Grow the vocabulary with the words just indexed, off the search path.

        Words of deleted documents stay in it: that only costs a few useless terms.
        When unknown, the next search reads it from the index.
        """
        if added is None or previous is None:
            return
        extended = previous[1].with_words(added)
        with self._index_lock:
            if self._vocabulary is None:
                self._vocabulary = (self._generation, extended)

    def _searcher(self) -> tantivy.Searcher:
        self._follow_writer()
        with self._index_lock:
            return self._open().searcher()

    def _search_sync(self, req: SearchRequest) -> SearchResult:
        self._follow_writer()
        with self._index_lock:
            searcher = self._open().searcher()
            generation = self._generation
        vocabulary = self._vocabulary_for(searcher, generation)
        words = [self._match(vocabulary, generation, word) for word in query_words(req.q, req.relaxed)]
        return execute(searcher, self._schema, words, req)

    def _vocabulary_for(self, searcher: tantivy.Searcher, generation: int) -> Vocabulary:
        """Every indexed searchable word: kept up to date by writes, read once at start."""
        cached = self._vocabulary
        if cached is not None and cached[0] == generation:
            return cached[1]
        words = (term for field in TEXT_FIELDS for term, _ in searcher.terms_with_prefix(field, "") if term != FILLER)
        vocabulary = Vocabulary(words)
        with self._index_lock:
            if self._generation == generation:
                self._vocabulary = (generation, vocabulary)
        return vocabulary

    def _match(self, vocabulary: Vocabulary, generation: int, word: QueryWord) -> WordMatches:
        """Expand a word, remembering recent expansions until the next commit."""
        key = (generation, word.text, word.prefix, word.relaxed)
        typos = self._matches.get(key)
        if typos is None:
            typos = match_word(vocabulary, word, self._previous_keystroke(generation, word)).typos
            if len(self._matches) >= MATCH_CACHE_SIZE:
                self._matches.clear()
            self._matches[key] = typos
        return WordMatches(word, typos)

    def _previous_keystroke(self, generation: int, word: QueryWord) -> Collection[str] | None:
        """Matches of the word minus its last letter, a superset of the word's own.

        This holds for a prefix word with the same typo budget: extending the query
        can only increase its distance to any term.
        """
        shorter = word.text[:-1]
        if not word.prefix or allowed_typos(shorter, word.relaxed) != allowed_typos(word.text, word.relaxed):
            return None
        return self._matches.get((generation, shorter, True, word.relaxed))


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when tantivy replaces a file: its inode, time and size."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None
