"""Organizer and vendor accounts: creation and password sign-in."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from functools import cache
from typing import Literal
from uuid import UUID, uuid4

from server.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from server.domain.errors import Conflict, Invalid, Unauthorized
from server.domain.validate import text
from server.tables import Account


@dataclass(frozen=True)
class NewAccount:
    email: str
    password: str
    display_name: str


def checked_account(data: NewAccount) -> tuple[str, str, str]:
    email = text(data.email, "email", max_len=254, min_len=3).lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise Invalid("email must look like name@example.org", field="email")
    if not isinstance(data.password, str) or len(data.password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if len(data.password) > 1024:
        raise Invalid("password is too long", field="password")
    name = text(data.display_name, "display_name", max_len=80, min_len=1)
    return email, data.password, name


@dataclass(frozen=True)
class CheckedAccount:
    email: str
    display_name: str
    password_hash: str


async def check_new_account(data: NewAccount, slots: asyncio.Semaphore | None = None) -> CheckedAccount:
    """Validate and hash. Argon2 spends tens of milliseconds of CPU on purpose: in a thread, so
    the event loop (everyone's chat) does not stall, before any write transaction opens, so
    SQLite's one write lock is not held meanwhile, and in one of the server's few `slots`."""
    email, password, name = checked_account(data)
    async with slots or contextlib.nullcontext():
        return CheckedAccount(email, name, await asyncio.to_thread(hash_password, password))


async def create_account(data: NewAccount | CheckedAccount, role: Literal["organizer", "vendor"]) -> UUID:
    """Insert an account; the caller owns the transaction (joining an event makes a stall too)."""
    checked = data if isinstance(data, CheckedAccount) else await check_new_account(data)
    if await Account.exists().where(Account.email == checked.email):
        raise Conflict("An account with this email already exists; sign in instead", field="email")
    account = Account(
        id=uuid4(),
        email=checked.email,
        display_name=checked.display_name,
        password_hash=checked.password_hash,
        role=role,
    )
    await account.save()
    return UUID(str(account.id))


async def check_password(email: str, password: str, slots: asyncio.Semaphore | None = None) -> Account:
    if not isinstance(password, str) or len(password) > 1024:
        raise Unauthorized("Wrong email or password")
    account = await account_by_email(email)
    # Verify even when the account is unknown, so timing does not reveal which emails exist.
    async with slots or contextlib.nullcontext():
        stored = account.password_hash if account else await asyncio.to_thread(_dummy_hash)
        if not await asyncio.to_thread(verify_password, stored, password) or account is None:
            raise Unauthorized("Wrong email or password")
    return account


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-just-timing")


async def account_by_email(email: str) -> Account | None:
    result: Account | None = await Account.objects().where(Account.email == email.strip().lower()).first()
    return result
