"""Business rules of accounts: registration, profile, password, deletion."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from taskapi.auth import service as auth_service
from taskapi.auth.errors import InvalidCredentials
from taskapi.auth.external import ExternalIdentity
from taskapi.core.errors import Conflict, Forbidden, Unauthorized
from taskapi.core.models import utcnow
from taskapi.core.security import PasswordHasher
from taskapi.users import repository
from taskapi.users.errors import EmailTaken
from taskapi.users.models import User
from taskapi.users.schemas import AccountDeletion, PasswordChange, UserCreate, UserUpdate


async def register(session: AsyncSession, hasher: PasswordHasher, data: UserCreate) -> User:
    if await repository.get_by_email(session, data.email) is not None:
        raise EmailTaken()
    user = User(
        email=data.email,
        email_key=repository.email_key(data.email),
        display_name=data.display_name,
        password_hash=await hasher.hash(data.password),
    )
    try:
        async with session.begin_nested():  # a concurrent twin may win the unique index
            await repository.add(session, user)
    except IntegrityError as exc:
        raise EmailTaken() from exc
    return user


async def update_profile(session: AsyncSession, user: User, data: UserUpdate) -> User:
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.updated_at = utcnow()
        await session.flush()
    return user


async def from_external_identity(
    session: AsyncSession, identity: ExternalIdentity
) -> tuple[User, bool]:
    """The local account of an issuer's user, created on their first request.

    Returns the user and whether this request created it (then it exists only once the
    request's transaction commits).
    """
    user = await repository.get_by_identity(session, identity.issuer, identity.subject)
    if user is None:
        deleted_at = await repository.deletion_time(session, identity.issuer, identity.subject)
        if deleted_at is not None:
            if identity.issued_at is None or identity.issued_at <= deleted_at:
                raise Unauthorized("The account was deleted; sign in again")
            # A token issued after the deletion: the person signed in anew.
            await repository.forget_deletion(session, identity.issuer, identity.subject)
        now = utcnow()
        await repository.add_identity_if_absent(
            session,
            User(
                email=identity.email,
                display_name=identity.name,
                auth_issuer=identity.issuer,
                auth_subject=identity.subject,
                created_at=now,
                updated_at=now,
            ),
        )
        user = await repository.get_by_identity(session, identity.issuer, identity.subject)
        if user is None:  # deleted between our insert and read: let the client retry
            raise Conflict("The account is being changed by another request; retry")
        return user, True
    if identity.email is not None and identity.email != user.email:
        user.email = identity.email  # the issuer is the authority on its users' addresses
        user.updated_at = utcnow()
    return user, False


async def _require_password(hasher: PasswordHasher, user: User, password: str) -> None:
    valid, _ = await hasher.verify(password, user.password_hash)
    if not valid:
        raise InvalidCredentials("The password is not correct")


async def change_password(
    session: AsyncSession, hasher: PasswordHasher, user: User, data: PasswordChange
) -> None:
    if user.is_external:
        raise Forbidden(
            "This account signs in through an external identity provider and has no password here"
        )
    await _require_password(hasher, user, data.current_password)
    user.password_hash = await hasher.hash(data.new_password)
    user.updated_at = utcnow()
    await session.flush()
    await auth_service.revoke_all_sessions(session, user)


async def delete_account(
    session: AsyncSession, hasher: PasswordHasher, user: User, data: AccountDeletion
) -> None:
    if user.auth_issuer is not None and user.auth_subject is not None:
        # No password here: the issuer's token is the proof. Remember the deletion so
        # that token (and older ones) cannot bring the account back.
        await repository.record_deletion(session, user.auth_issuer, user.auth_subject, utcnow())
    elif data.password is None:
        raise InvalidCredentials("The account's password is required")
    else:
        await _require_password(hasher, user, data.password)
    await repository.delete_by_id(session, user.id)
