from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from tickets.ui import register_nav_link, register_ticket_panel

        from . import listeners, panels

        listeners.connect()
        register_nav_link("feedback:suggestions", _("Suggestions"))
        register_ticket_panel("feedback/panel.html", context=panels.survey_panel, column="side", order=40)
