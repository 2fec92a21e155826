from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("widget.js", views.widget_js, name="widget_js"),
    path("widget/demo/", views.widget_demo, name="demo"),
    path("agent/chats/", views.workspace, name="workspace"),
    path("agent/canned/", views.canned_page, name="canned"),
    path("agent/canned/save/", views.canned_save, name="canned_save"),
    path("agent/canned/<int:canned_id>/delete/", views.canned_delete, name="canned_delete"),
]
