from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Live chat")

    def ready(self) -> None:
        from tickets import events, ui
        from tickets.adapters import register_adapter
        from tickets.consumers import register_agent_frame

        from . import agent_frames
        from .adapter import ChatAdapter
        from .assignment import on_availability
        from .views import composer_panel

        register_adapter("chat", ChatAdapter())
        events.subscribe("agent.availability", on_availability)
        for frame_type, handler in agent_frames.HANDLERS.items():
            register_agent_frame(frame_type, handler)
        ui.register_nav_link("chat:workspace", _("Chats"))
        ui.register_nav_link("chat:canned", _("Canned responses"))
        ui.register_agent_script("chat/canned.js")
        ui.register_ticket_panel("chat/composer_panel.html", context=composer_panel, column="composer")
