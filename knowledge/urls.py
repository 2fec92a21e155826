from django.urls import path

from . import views

app_name = "knowledge"

urlpatterns = [
    path("kb/", views.home, name="home"),
    path("kb/sitemap.xml", views.sitemap, name="sitemap"),
    path("kb/suggest/", views.suggest, name="suggest"),
    path("kb/deflected/", views.deflected, name="deflected"),
    path("kb/c/<slug:slug>/", views.category, name="category"),
    path("kb/<slug:slug>/", views.article, name="article"),
    path("kb/<slug:slug>/vote/", views.vote, name="vote"),
]
