"""Outbound adapter for channel `chat`: agent and bot replies go to the visitor's widget over the socket.

Internal notes never reach an adapter (tickets.reply stores them and stops). Delivery is inline
(`queued = False`): the message is stored first, so a visitor who is away reads it in `welcome` or `resume`.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from tickets import events
from tickets.adapters import ReplyRefused
from tickets.models import Message, Ticket

from . import frames
from .models import ChatSession


class ChatAdapter:
    queued = False

    def check(self, ticket: Ticket) -> None:
        if not ChatSession.objects.filter(ticket_id=ticket.pk).exists():
            raise ReplyRefused(_("This ticket has no chat visitor to reply to."))

    def send(self, message: Message) -> str:
        frame = frames.visitor_message(message)
        if frame is not None:
            events.send_to_groups([frames.customer_group(message.ticket_id)], frame)
        return f"chat:{message.pk}"
