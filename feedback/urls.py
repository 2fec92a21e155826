from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("survey/<str:token>/", views.survey_page, name="survey"),
    path("agent/suggestions/", views.suggestions, name="suggestions"),
    path("agent/suggestions/<int:suggestion_id>/", views.suggestion_detail, name="suggestion"),
    path("agent/suggestions/<int:suggestion_id>/vote/", views.suggestion_vote, name="vote"),
    path("agent/suggestions/<int:suggestion_id>/comment/", views.suggestion_comment, name="comment"),
    path("agent/suggestions/<int:suggestion_id>/status/", views.suggestion_status, name="status"),
]
