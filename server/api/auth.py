"""Sign-in for organizers and vendors, anonymous device tokens for visitors, joining an event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from server.api.client import address_group, address_key, client_address
from server.api.deps import ActorDep, ServicesDep
from server.auth.tokens import create_device, issue_account_token, revoke
from server.domain.accounts import NewAccount, check_password
from server.domain.actors import Actor, require_any
from server.domain.blocks import follow_to_new_device
from server.domain.devices import ResumeCodeOut, VisitorNameOut, first_name_of, new_resume_code, resume, set_first_name
from server.domain.errors import Conflict, DomainError, NotFound, Unauthorized
from server.domain.stalls import StallInput, join_event, my_stalls
from server.domain.views import StallView
from server.ratelimit import (
    CODE_FAILURES_PER_ADDRESS,
    NEW_DEVICE_PER_ADDRESS,
    NEW_DEVICE_PER_ADDRESS_HOUR,
    SIGN_IN_FAILURES_PER_ACCOUNT,
    SIGN_IN_FAILURES_PER_ADDRESS,
)


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
class FirstNameInput:
    first_name: str


@dataclass(frozen=True)
class JoinOut:
    stall: StallView
    token: str | None


class AuthController(Controller):
    path = "/api"
    tags = ["auth"]

    @post("/auth/login")
    async def login(
        self, request: Request[Any, Any, Any], data: JSONBody[LoginInput], services: ServicesDep
    ) -> TokenOut:
        """Failures are counted per account and per address and checked before the (costly)
        password check, so guessing is slow and cannot tie up the server."""
        address = client_address(request, services.settings.trusted_proxies)
        email = data.email.strip().lower() if isinstance(data.email, str) else ""
        await services.limits.check(SIGN_IN_FAILURES_PER_ACCOUNT, email)
        await services.limits.check(SIGN_IN_FAILURES_PER_ADDRESS, address_group(address))
        try:
            account = await check_password(email, data.password, services.password_slots)
        except Unauthorized:
            await services.limits.hit(SIGN_IN_FAILURES_PER_ACCOUNT, email)
            await services.limits.hit(SIGN_IN_FAILURES_PER_ADDRESS, address_group(address))
            raise
        await services.limits.forgive(SIGN_IN_FAILURES_PER_ACCOUNT, email)
        token = await issue_account_token(account.id, services.settings.token_days)
        return TokenOut(token, account.role, account_id=account.id, display_name=account.display_name)

    @post("/auth/logout", status_code=204)
    async def logout(self, request: Request[Any, Any, Any], actor: ActorDep) -> None:
        require_any(actor)
        await revoke(request.headers["authorization"].partition(" ")[2].strip())

    @get("/auth/me")
    async def me(self, actor: ActorDep) -> Actor:
        return require_any(actor)

    @post("/devices", status_code=HTTP_201_CREATED)
    async def new_device(self, request: Request[Any, Any, Any], services: ServicesDep) -> TokenOut:
        """A visitor's first contact: an anonymous token, no questions asked, a few a minute per address."""
        address = client_address(request, services.settings.trusted_proxies)
        await services.limits.hit(NEW_DEVICE_PER_ADDRESS, address_group(address))
        await services.limits.hit(NEW_DEVICE_PER_ADDRESS_HOUR, address_group(address))
        key = address_key(address, services.settings.resolved_secret())
        device_id, token = await create_device(key)
        await follow_to_new_device(device_id, key)
        return TokenOut(token, "device", device_id=device_id)

    @get("/devices/me/name")
    async def my_name(self, actor: ActorDep) -> VisitorNameOut:
        """How this visitor is called in chats: their first name, or "Visitor A64B"."""
        return await first_name_of(actor)

    @put("/devices/me/name")
    async def set_my_name(
        self, data: JSONBody[FirstNameInput], services: ServicesDep, actor: ActorDep
    ) -> VisitorNameOut:
        """Choose the first name both sides of this visitor's chats see ("" for "Visitor A64B")."""
        return await set_first_name(services, actor, data.first_name)

    @post("/devices/resume-code", status_code=HTTP_201_CREATED)
    async def resume_code(self, actor: ActorDep) -> ResumeCodeOut:
        """A short single-use code to carry this visitor's conversations to another browser."""
        return await new_resume_code(actor)

    @post("/devices/resume", status_code=HTTP_201_CREATED)
    async def resume(
        self, request: Request[Any, Any, Any], data: JSONBody[ResumeInput], services: ServicesDep
    ) -> TokenOut:
        """Wrong codes are counted per address: a code has ~50 bits, guessing must stay hopeless."""
        where = address_group(client_address(request, services.settings.trusted_proxies))
        await services.limits.check(CODE_FAILURES_PER_ADDRESS, where)
        try:
            device_id, token = await resume(data.code)
        except DomainError:
            await services.limits.hit(CODE_FAILURES_PER_ADDRESS, where)
            raise
        return TokenOut(token, "device", device_id=device_id)

    @get("/vendors/me/stalls")
    async def my_stalls(self, services: ServicesDep, actor: ActorDep) -> list[StallView]:
        return await my_stalls(services, actor)

    @post("/vendors/join", status_code=HTTP_201_CREATED)
    async def join(
        self, request: Request[Any, Any, Any], data: JSONBody[JoinInput], services: ServicesDep, actor: ActorDep
    ) -> JoinOut:
        """Join an event with an invite code; without a token, this also creates the vendor account.
        Wrong or spent codes are counted per address, like resume codes."""
        where = address_group(client_address(request, services.settings.trusted_proxies))
        await services.limits.check(CODE_FAILURES_PER_ADDRESS, where)
        new_account = None
        if actor is None:
            new_account = NewAccount(data.email or "", data.password or "", data.display_name or "")
        try:
            result = await join_event(services, actor, data.invite_code, data.stall, new_account)
        except (NotFound, Conflict) as exc:
            if isinstance(exc, NotFound) or exc.field == "invite_code":
                await services.limits.hit(CODE_FAILURES_PER_ADDRESS, where)
            raise
        return JoinOut(result.stall, result.token)
