from django.urls import path

from . import views

app_name = "social"

urlpatterns = [path("hooks/messenger/", views.messenger_webhook, name="messenger-webhook")]
