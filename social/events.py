"""Real-time announcements of the Messenger app: a stored message changed (late attachments)."""

from __future__ import annotations

from tickets import events
from tickets.models import Message
from tickets.representations import message_dict


def announce_message_updated(message: Message) -> None:
    """Agents watching the ticket see the new version after commit."""
    message = Message.objects.select_related("ticket", "author_agent", "author_contact").get(pk=message.pk)
    events.publish(
        "message.updated",
        groups=events.message_groups(message),
        frame={"type": "message", "event": "updated", **message_dict(message)},
        data={"ticket_id": message.ticket_id, "team_id": message.ticket.team_id, "message_id": message.pk,
              "direction": message.direction, "channel": message.channel},
    )  # fmt: skip
