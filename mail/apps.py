from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = _("Email")

    def ready(self) -> None:
        from celery.signals import worker_ready

        from tickets.adapters import register_adapter

        from .idle import start_supervisor
        from .outbound import EmailAdapter

        register_adapter("email", EmailAdapter())
        # IMAP IDLE listeners live in the Celery worker process (see mail/idle.py).
        worker_ready.connect(start_supervisor, weak=False, dispatch_uid="mail-idle-supervisor")
