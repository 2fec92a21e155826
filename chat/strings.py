"""Every string the widget shows, translated on the server and sent in the `welcome` frame."""

from __future__ import annotations

from django.utils.translation import gettext as _


def widget_strings() -> dict[str, str]:
    return {
        "title": _("Chat with us"),
        "open": _("Chat"),
        "close": _("Close"),
        "placeholder": _("Write a message…"),
        "send": _("Send"),
        "you": _("You"),
        "agent": _("Agent"),
        "bot": _("Bot"),
        "agent_typing": _("Agent is typing…"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost, reconnecting…"),
        "queue": _("You are number %(position)s in line."),
        "waiting": _("Waiting for an agent…"),
        "assigned": _("You are chatting with %(agent)s."),
        "ended": _("The chat has ended."),
        "end": _("End chat"),
        "new_chat": _("Start a new chat"),
        "transcript": _("Email me the transcript"),
        "transcript_sent": _("The transcript is on its way."),
        "email": _("Email"),
        "name": _("Name"),
        "prechat_intro": _("Before we start, tell us who you are."),
        "start": _("Start chat"),
        "offline_intro": _("No one is available right now. Leave a message and we will answer by email."),
        "offline_sent": _("Thanks! We will answer by email."),
        "message": _("Message"),
        "suggested": _("These articles may answer your question:"),
        "survey_title": _("How was your chat?"),
        "survey_comment": _("Anything to add? (optional)"),
        "survey_send": _("Send feedback"),
        "survey_thanks": _("Thank you for your feedback!"),
        "failed": _("Not sent. Retrying…"),
        "error": _("Something went wrong."),
    }
