from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .selectors import is_agent, sees_everything


class IsAgent(BasePermission):
    """Authenticated, active agents (or superusers)."""

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user)


class IsManagerOrReadOnly(BasePermission):
    """Agents read; supervisors and admins write."""

    def has_permission(self, request, view) -> bool:
        if not is_agent(request.user):
            return False
        if request.method in SAFE_METHODS:
            return True
        profile = getattr(request.user, "agent", None)
        return request.user.is_superuser or (profile is not None and profile.is_manager)


class IsAdmin(BasePermission):
    """Configuration resources: admins only."""

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user) and sees_everything(request.user)
