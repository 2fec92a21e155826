from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self) -> None:
        from tickets import ui
        from tickets.consumers import register_agent_disconnect, register_agent_frame
        from tickets.serializers import register_ticket_field

        from . import listeners, panels, presence, sla
        from .serializers import TicketSlaSerializer

        listeners.connect()
        register_ticket_field("sla", sla.sla_json, schema=TicketSlaSerializer)
        register_agent_frame("presence", presence.on_presence_frame)
        register_agent_disconnect(presence.on_disconnect)
        ui.register_ticket_panel("workflows/sla_panel.html", context=panels.sla_panel, column="side", order=10)
        ui.register_ticket_panel("workflows/actions_panel.html", context=panels.actions_panel, column="side", order=60)
        ui.register_ticket_panel("workflows/collision.html", context=panels.collision_panel, column="composer", order=5)
        ui.register_agent_script("workflows/workflows.js")
