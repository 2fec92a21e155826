from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class AssistConfig(AppConfig):
    name = "assist"
    verbose_name = _("Assist")

    def ready(self) -> None:
        from tickets import events, ui

        from . import classifier, indexing, panels, summary
        from .flows import services as flows

        events.subscribe("ticket.updated", indexing.on_ticket_updated)
        events.subscribe("ticket.updated", summary.on_ticket_updated)
        events.subscribe("ticket.created", classifier.on_ticket_created)
        events.subscribe("article.published", indexing.on_article_event)
        events.subscribe("survey.answered", indexing.on_ticket_event)
        # Other apps' models, when they have landed: keep the index in step with their edits.
        for label, saved, deleted in (
            ("chat.CannedResponse", indexing.on_canned_saved, indexing.on_canned_deleted),
            ("knowledge.Article", indexing.on_article_saved, indexing.on_article_deleted),
        ):
            model = indexing.optional_model(label)
            if model is not None:
                post_save.connect(saved, sender=model, dispatch_uid=f"assist-{label}-save")
                post_delete.connect(deleted, sender=model, dispatch_uid=f"assist-{label}-delete")

        ui.register_ticket_panel("assist/suggestions_panel.html", context=panels.suggestions_context, column="composer", order=20)
        ui.register_ticket_panel("assist/predictions_panel.html", context=panels.predictions_context, column="side", order=20)
        ui.register_agent_script("assist/assist.js")
        ui.register_nav_link("assist:flows", _("Chat flows"))
        flows.connect()
