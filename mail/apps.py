from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = _("Email")

    def ready(self) -> None:
        from tickets.adapters import register_adapter

        from .outbound import EmailAdapter

        register_adapter("email", EmailAdapter())
