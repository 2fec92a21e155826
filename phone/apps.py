from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PhoneConfig(AppConfig):
    name = "phone"
    verbose_name = _("Phone, SMS and WhatsApp")

    def ready(self) -> None:
        from tickets.adapters import register_adapter
        from tickets.ui import register_ticket_panel

        from .outbound import TwilioMessagingAdapter
        from .panels import calls_panel

        register_adapter("sms", TwilioMessagingAdapter("sms"))
        register_adapter("whatsapp", TwilioMessagingAdapter("whatsapp"))
        register_adapter("voice", TwilioMessagingAdapter("voice"))  # answers a caller by SMS
        register_ticket_panel("phone/calls_panel.html", context=calls_panel, column="side", order=40)
