"""/undang: an admin creates a single-use, expiring invitation for a role and a place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.core.domain import Role, parse_role
from bot.people import roster
from bot.people.regions import get_desa, get_kecamatan
from bot.people.roster import RegistrationError
from bot.people.service import registered_head
from bot.telegram.context import SambangApp, SambangContext, notice, refuse, reply, requires


async def describe_place(context: SambangContext, invitation: roster.Invitation) -> str:
    db = context.services.db
    if invitation.desa_code:
        desa = await get_desa(db, invitation.desa_code)
        return desa.label if desa else invitation.desa_code
    if invitation.kecamatan_code:
        kec = await get_kecamatan(db, invitation.kecamatan_code)
        return f"Kecamatan {kec.name}" if kec else invitation.kecamatan_code
    return invitation.department or invitation.title or ""


@requires(Role.ADMIN)
async def undang(update: Update, context: SambangContext) -> None:
    svc = context.services
    args = context.args or []
    if not args:
        await reply(update, "people/invite_usage")
        return
    role = parse_role(args[0])
    rest = " ".join(args[1:]).strip()
    if role is None:
        await refuse(update, notice("role_unknown", role=args[0][:40]))
        await reply(update, "people/invite_usage")
        return
    kwargs: dict[str, str | None] = {}
    if role is Role.KEPALA_DESA:
        kwargs["desa"] = rest or None
    elif role is Role.CAMAT:
        kwargs["kecamatan"] = rest or None
    elif role is Role.PEJABAT:
        kwargs["department"] = rest or None
    else:
        kwargs["title"] = rest or None
    user = update.effective_user
    assert user is not None
    try:
        invitation = await roster.create_invitation(
            svc.db, svc.clock, role=role, created_by=user.id, ttl_hours=svc.config.invite_ttl_hours, **kwargs
        )
    except RegistrationError as exc:
        await reply(update, "common/refusal", message=exc.message)
        return
    username = svc.config.bot_username or context.bot.username
    head = await registered_head(svc.db, invitation.desa_code) if invitation.desa_code else None
    await reply(
        update, "people/invite_created", invitation=invitation, role_label=role.label,
        place=await describe_place(context, invitation), link=invitation.link(username), head=head,
    )


def register(app: SambangApp) -> None:
    app.add_handler(CommandHandler("undang", undang, filters=filters.ChatType.PRIVATE))
