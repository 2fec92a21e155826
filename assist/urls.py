from django.urls import path

from . import views

app_name = "assist"

urlpatterns = [
    path("assist/predictions/<int:prediction_id>/accept/", views.accept_prediction, name="accept-prediction"),
]
