"""Sign-in for organizers and vendors, anonymous device tokens for visitors, joining an event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from server.api.deps import ActorDep, MarketDep
from server.auth.tokens import create_device, issue_account_token, revoke
from server.domain.accounts import NewAccount, check_password
from server.domain.actors import Actor, require_any
from server.domain.devices import ResumeCodeOut, new_resume_code, resume
from server.domain.stalls import StallInput, join_event, my_stalls
from server.domain.views import StallView


@dataclass(frozen=True)
class LoginInput:
    email: str
    password: str


@dataclass(frozen=True)
class TokenOut:
    token: str
    role: str
    account_id: UUID | None = None
    device_id: UUID | None = None
    display_name: str = ""


@dataclass(frozen=True)
class JoinInput:
    invite_code: str
    stall: StallInput
    email: str | None = None
    password: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class ResumeInput:
    code: str


@dataclass(frozen=True)
class JoinOut:
    stall: StallView
    token: str | None


class AuthController(Controller):
    path = "/api"
    tags = ["auth"]

    @post("/auth/login")
    async def login(self, data: JSONBody[LoginInput], market: MarketDep) -> TokenOut:
        account = await check_password(data.email, data.password)
        token = await issue_account_token(account.id, market.settings.token_days)
        return TokenOut(token, account.role, account_id=account.id, display_name=account.display_name)

    @post("/auth/logout", status_code=204)
    async def logout(self, request: Request[Any, Any, Any], actor: ActorDep) -> None:
        require_any(actor)
        await revoke(request.headers["authorization"].partition(" ")[2].strip())

    @get("/auth/me")
    async def me(self, actor: ActorDep) -> Actor:
        return require_any(actor)

    @post("/devices", status_code=HTTP_201_CREATED)
    async def new_device(self) -> TokenOut:
        """A visitor's first contact: an anonymous token, no questions asked."""
        device_id, token = await create_device()
        return TokenOut(token, "device", device_id=device_id)

    @post("/devices/resume-code", status_code=HTTP_201_CREATED)
    async def resume_code(self, actor: ActorDep) -> ResumeCodeOut:
        """A short single-use code to carry this visitor's conversations to another browser."""
        return await new_resume_code(actor)

    @post("/devices/resume", status_code=HTTP_201_CREATED)
    async def resume(self, data: JSONBody[ResumeInput]) -> TokenOut:
        device_id, token = await resume(data.code)
        return TokenOut(token, "device", device_id=device_id)

    @get("/vendors/me/stalls")
    async def my_stalls(self, market: MarketDep, actor: ActorDep) -> list[StallView]:
        return await my_stalls(market, actor)

    @post("/vendors/join", status_code=HTTP_201_CREATED)
    async def join(self, data: JSONBody[JoinInput], market: MarketDep, actor: ActorDep) -> JoinOut:
        """Join an event with an invite code; without a token, this also creates the vendor account."""
        new_account = None
        if actor is None:
            new_account = NewAccount(data.email or "", data.password or "", data.display_name or "")
        result = await join_event(market, actor, data.invite_code, data.stall, new_account)
        return JoinOut(result.stall, result.token)
