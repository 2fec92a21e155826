from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SocialConfig(AppConfig):
    name = "social"
    verbose_name = _("Messenger")

    def ready(self) -> None:
        from tickets.adapters import register_adapter

        from .outbound import MessengerAdapter

        register_adapter("messenger", MessengerAdapter())
