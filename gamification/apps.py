from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GamificationConfig(AppConfig):
    name = "gamification"
    verbose_name = _("Gamification")

    def ready(self) -> None:
        from tickets.ui import register_agent_script, register_nav_link

        from . import listeners

        listeners.connect()
        register_nav_link("gamification:leaderboard", _("Leaderboard"))
        register_agent_script("gamification/points.js")
