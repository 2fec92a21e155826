from django.urls import path

from . import views

app_name = "assist"

urlpatterns = [
    path("assist/predictions/<int:prediction_id>/accept/", views.accept_prediction, name="accept-prediction"),
    path("assist/flows/", views.flows_page, name="flows"),
    path("assist/flows/<int:flow_id>/", views.flow_builder, name="flow-builder"),
    path("assist/flows/<int:flow_id>/save/", views.flow_save, name="flow-save"),
    path("assist/flows/<int:flow_id>/report/", views.flow_report_page, name="flow-report"),
]
