from django.urls import path

from . import api

urlpatterns = [path("tickets/<int:ticket_id>/suggestions/", api.ticket_suggestions, name="assist-suggestions")]
