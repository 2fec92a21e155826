from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from tickets.ui import register_agent_script, register_nav_link, register_ticket_panel

        from . import panels

        post_migrate.connect(_ensure_index, sender=self)
        register_ticket_panel("knowledge/panel.html", context=panels.ticket_panel_context, column="side", order=20)
        register_agent_script("knowledge/kb-sidebar.js")
        register_nav_link("knowledge:agent-home", _("Knowledge base"))


def _ensure_index(sender, using="default", **kwargs) -> None:
    from django.db import connections

    from .search import ensure_sqlite_index

    ensure_sqlite_index(connections[using])
