from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("widgets", api.WidgetViewSet, basename="widget")
router.register("canned-responses", api.CannedResponseViewSet, basename="canned-response")

urlpatterns = [path("chat/spellcheck/", api.spellcheck, name="chat-spellcheck"), *router.urls]
