"""Websocket routes. Each app that speaks websockets lists its routes in `<app>/routing.py`."""

from importlib import import_module

from django.conf import settings
from django.urls import path

from tickets.consumers import AgentConsumer

websocket_urlpatterns = [path("ws/agent/", AgentConsumer.as_asgi())]

for _app in settings.LOCAL_APPS:
    if _app == "tickets":
        continue
    try:
        websocket_urlpatterns += import_module(f"{_app}.routing").websocket_urlpatterns
    except ModuleNotFoundError as exc:  # the app has no websocket routes
        if exc.name != f"{_app}.routing":
            raise
