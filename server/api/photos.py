"""Photo upload (vendors' items, chat) and serving the stored, metadata-free variants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import ETag, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import File, Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_304_NOT_MODIFIED

from server.api.client import address_group, caller_key, client_address
from server.api.deps import ActorDep, ServicesDep
from server.domain.actors import require_any
from server.domain.errors import NotFound
from server.domain.uploads import store_photo
from server.domain.views import PhotoView, photo_view
from server.ratelimit import UPLOADS_PER_ADDRESS, UPLOADS_PER_CALLER, UPLOADS_PER_CALLER_DAY


@dataclass(frozen=True)
class PhotoOut:
    photo: PhotoView
    mime: str


@dataclass
class PhotoUpload:
    file: UploadFile


class PhotoController(Controller):
    tags = ["photos"]

    @post("/api/photos", status_code=HTTP_201_CREATED)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[PhotoUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        services: ServicesDep,
        actor: ActorDep,
    ) -> PhotoOut:
        """Store a photo; the real type is sniffed from the bytes, EXIF (GPS!) is stripped.

        Any visitor device may upload (a photo in a chat), so uploads are limited per device or
        account and per address, within minutes and within a day."""
        who = require_any(actor)
        where = address_group(client_address(request, services.settings.trusted_proxies))
        await services.limits.hit(UPLOADS_PER_ADDRESS, where)
        await services.limits.hit(UPLOADS_PER_CALLER, caller_key(who))
        await services.limits.hit(UPLOADS_PER_CALLER_DAY, caller_key(who))
        raw = await data.file.read(services.settings.max_upload_bytes + 1)
        stored = await store_photo(services, raw)
        return PhotoOut(photo_view(stored.key, stored.width, stored.height), stored.mime)

    @get("/photos/{key:str}/{size:str}", include_in_schema=False)
    async def serve(
        self, request: Request[Any, Any, Any], key: FromPath[str], size: FromPath[str], services: ServicesDep
    ) -> Response[bytes] | File | Stream:
        """One size of a photo, from whichever storage holds them (SOUK_PHOTO_STORE).

        Content addressed: the bytes behind a URL never change, so they are cached as immutable
        and the ETag (the key and size) is the same on every node. A file on disk is sent as a
        file; from the database the bytes are streamed a chunk at a time."""
        found = await services.photos.find(key, size)
        if found is None:
            raise NotFound("No such photo")
        headers = {"Cache-Control": IMMUTABLE}
        if found.etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers={**headers, "ETag": found.etag})
        if found.path is not None:
            return File(
                path=found.path,
                media_type=found.media_type,
                content_disposition_type="inline",
                headers=headers,
                etag=ETag(value=found.etag.strip('"')),
            )
        return Stream(
            services.photos.chunks(found),
            media_type=found.media_type,
            headers={
                **headers,
                "ETag": found.etag,
                "Content-Length": str(found.byte_size),
                "Content-Disposition": "inline",
            },
        )


IMMUTABLE = "public, max-age=31536000, immutable"
