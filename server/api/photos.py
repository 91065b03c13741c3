"""Photo upload (vendors' items, chat) and serving the stored, metadata-free variants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import File
from litestar.status_codes import HTTP_201_CREATED

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
    async def serve(self, key: FromPath[str], size: FromPath[str], services: ServicesDep) -> Response[bytes] | File:
        path = services.photos.file_for(key, size)
        if path is None or not path.exists():
            raise NotFound("No such photo")
        return File(
            path=path,
            media_type=services.photos.media_type(path),
            content_disposition_type="inline",
            # Content-addressed: the bytes behind a URL never change.
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )
