from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("tickets", api.TicketViewSet, basename="ticket")
router.register("contacts", api.ContactViewSet, basename="contact")
router.register("teams", api.TeamViewSet, basename="team")
router.register("agents", api.AgentViewSet, basename="agent")

urlpatterns = [path("auth/token/", api.obtain_token, name="api-token"), *router.urls]
