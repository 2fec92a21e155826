from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from tickets.ui import register_nav_link

        from . import listeners

        listeners.connect()
        register_nav_link("feedback:suggestions", _("Suggestions"))
