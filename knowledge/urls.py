from django.urls import path

from . import agent_views, views

app_name = "knowledge"

urlpatterns = [
    path("agent/kb/", agent_views.agent_home, name="agent-home"),
    path("agent/kb/<int:article_id>/", agent_views.agent_article, name="agent-article"),
    path("kb/", views.home, name="home"),
    path("kb/sitemap.xml", views.sitemap, name="sitemap"),
    path("kb/suggest/", views.suggest, name="suggest"),
    path("kb/deflected/", views.deflected, name="deflected"),
    path("kb/c/<slug:slug>/", views.category, name="category"),
    path("kb/<slug:slug>/", views.article, name="article"),
    path("kb/<slug:slug>/vote/", views.vote, name="vote"),
]
