"""Routes of workflows under /api/v1/. Ticket actions are `tickets/<int:pk>/<verb>/`: the core router's
detail route only matches `tickets/<pk>/`, so these never clash with it (tested)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("macros", api.MacroViewSet, basename="macro")
router.register("sla-policies", api.SlaPolicyViewSet, basename="sla-policy")
router.register("business-hours", api.BusinessHoursViewSet, basename="business-hours")
router.register("automations", api.AutomationRuleViewSet, basename="automation")
router.register("webhooks", api.WebhookViewSet, basename="webhook")

urlpatterns = [
    path("tickets/<int:pk>/merge/", api.merge_view, name="ticket-merge"),
    path("tickets/<int:pk>/split/", api.split_view, name="ticket-split"),
    path("tickets/<int:pk>/apply-macro/", api.apply_macro_view, name="ticket-apply-macro"),
    path("moves/<int:pk>/undo/", api.undo_move_view, name="ticket-move-undo"),
    path("sla/", api.sla_lookup_view, name="sla-lookup"),
    *router.urls,
]
