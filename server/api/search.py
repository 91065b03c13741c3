"""Searching one event as the visitor types: `GET /api/events/{event}/search`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.params import FromPath, QueryParameter, SkipValidation

from search.documents import SORTS, STATES, SearchRequest
from search.engine import EngineError, SearchEngine
from search.relaxed import search_or_relax
from server.api.event_ids import event_ids
from server.domain.errors import Invalid
from server.domain.hashtags import tag_key
from server.tables import Stall

MAX_QUERY_CHARS = 1000  # ten words at most are searched; the rest of a pasted essay is noise


@dataclass(frozen=True)
class SearchHit:
    id: str
    stall_id: str
    stall_code: str
    stall_name: str
    stall_number: str
    title: str
    title_html: str
    description_html: str
    hashtags: list[str]
    causes: list[str]
    state: str
    price: int
    currency: str
    photo: str | None


@dataclass(frozen=True)
class SearchOut:
    hits: list[SearchHit]
    total: int
    facets: dict[str, dict[str, int]]  # {} unless asked for with facets=true
    query_words: list[str]
    offset: int
    limit: int
    relaxed: bool  # the strict search found nothing: this is the second pass, one typo in 3-4 letter words
    corrections: dict[str, str]  # typed word -> the word it was taken for ("hony" -> "honey")
    showing_for: str  # the query as the results read it ("honey"), "" unless relaxed


class SearchController(Controller):
    tags = ["search"]

    @get("/api/events/{event:str}/search")
    async def search(
        self,
        event: FromPath[str],
        request: Request[Any, Any, Any],
        search: NamedDependency[SkipValidation[SearchEngine]],
        q: Annotated[str, QueryParameter(description="words, with typos; #tags allowed")] = "",
        tags: Annotated[list[str] | None, QueryParameter(name="tag")] = None,
        stalls: Annotated[list[str] | None, QueryParameter(name="stall", description="stall codes")] = None,
        causes: Annotated[list[str] | None, QueryParameter(name="cause")] = None,
        states: Annotated[list[str] | None, QueryParameter(name="state")] = None,
        price_min: Annotated[int | None, QueryParameter(ge=0)] = None,
        price_max: Annotated[int | None, QueryParameter(ge=0)] = None,
        sort: Annotated[str, QueryParameter(description=", ".join(SORTS))] = "relevance",
        offset: Annotated[int, QueryParameter(ge=0, le=10_000)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        facets: Annotated[
            bool,
            QueryParameter(
                description="counts per tag, stall and state over every match (a pass over all of them: on request)"
            ),
        ] = False,
        relax: Annotated[
            bool, QueryParameter(description="when nothing matches, search again allowing a typo in 3-4 letter words")
        ] = True,
    ) -> SearchOut:
        """Typo-tolerant search with filters and facets; only available items unless `state` says otherwise."""
        event_id = await event_ids(request.app.state).resolve(event)  # remembered: a slug never changes
        if sort not in SORTS:
            raise Invalid(f"sort must be one of {', '.join(SORTS)}", field="sort")
        wanted_states = tuple(states or ("available",))
        if bad := [s for s in wanted_states if s not in STATES]:
            raise Invalid(f"state {bad[0]!r} is not one of {', '.join(STATES)}", field="state")
        if price_min is not None and price_max is not None and price_min > price_max:
            raise Invalid("price_min is above price_max", field="price_min")
        wanted = SearchRequest(
            event_id=str(event_id),
            q=q[:MAX_QUERY_CHARS],
            stall_ids=await _stall_ids(event_id, stalls or []),
            tags=tuple(tag_key(t) for t in tags or [] if t.strip("# ")),
            causes=tuple(tag_key(c) for c in causes or [] if c.strip("# ")),
            states=wanted_states,
            price_min=price_min,
            price_max=price_max,
            sort=sort,
            offset=offset,
            limit=limit,
            facets=facets,
        )
        try:
            answer = await search_or_relax(search, wanted, relax=relax)
        except EngineError as exc:  # e.g. a new machine still building its index: the app retries
            raise ServiceUnavailableException(str(exc), headers={"Retry-After": "2"}) from exc
        result = answer.result
        return SearchOut(
            hits=[_hit(h.document, h.title_html, h.description_html) for h in result.hits],
            total=result.total,
            facets={name: dict(counts) for name, counts in result.facets.items()},
            query_words=list(result.query_words),
            offset=offset,
            limit=limit,
            relaxed=answer.relaxed,
            corrections=answer.corrections,
            showing_for=answer.showing_for,
        )


async def _stall_ids(event_id: UUID, codes: list[str]) -> tuple[str, ...]:
    if not codes:
        return ()
    rows = await Stall.select(Stall.id, Stall.code).where((Stall.event == event_id) & Stall.code.is_in(codes))
    found = {r["code"]: str(r["id"]) for r in rows}
    if missing := [c for c in codes if c not in found]:
        raise Invalid(f"stall {missing[0]!r} is not a stall code of this event", field="stall")
    return tuple(found[c] for c in codes)


def _hit(doc: Any, title_html: str, description_html: str) -> SearchHit:
    return SearchHit(
        id=doc.id,
        stall_id=doc.stall_id,
        stall_code=doc.stall_code,
        stall_name=doc.stall_name,
        stall_number=doc.stall_number,
        title=doc.title,
        title_html=title_html,
        description_html=description_html,
        hashtags=list(doc.hashtags),
        causes=list(doc.causes),
        state=doc.state,
        price=doc.price,
        currency=doc.currency,
        photo=doc.photo,
    )
