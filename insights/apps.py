from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = _("Customer insights")

    def ready(self) -> None:
        from tickets.models import Contact
        from tickets.signals import contacts_created
        from tickets.ui import register_nav_link, register_ticket_panel

        from . import panels, signals

        post_save.connect(signals.contact_saved, sender=Contact, dispatch_uid="insights.contact_saved")
        contacts_created.connect(signals.contacts_created, dispatch_uid="insights.contacts_created")
        register_ticket_panel("insights/panel.html", context=panels.ticket_panel_context, column="side", order=10)
        register_nav_link("insights:directory", _("Contacts"))
