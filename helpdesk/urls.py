"""URL map. Each app contributes `<app>/urls.py` (pages, webhooks) and `<app>/api_urls.py` (under /api/v1/)."""

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tickets.forms import RateLimitedAuthenticationForm

from .health import healthz


def _discover(module: str) -> list:
    found = []
    for app in settings.LOCAL_APPS:
        try:
            found.append(import_module(f"{app}.{module}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.{module}":
                raise
    return found


api_patterns = [p for m in _discover("api_urls") for p in m.urlpatterns]

urlpatterns = [
    path("", RedirectView.as_view(url="/agent/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=RateLimitedAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    *[path("", include(m)) for m in _discover("urls")],
]
