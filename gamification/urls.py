from django.urls import path

from . import views

app_name = "gamification"

urlpatterns = [
    path("agent/leaderboard/", views.leaderboard_page, name="leaderboard"),
    path("agent/profile/", views.profile_page, name="my-profile"),
    path("agent/profile/<int:user_id>/", views.profile_page, name="profile"),
]
