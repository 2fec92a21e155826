from django.urls import path

from . import views

app_name = "mail"

urlpatterns = [path("mail/inline/", views.inline_image, name="inline")]
