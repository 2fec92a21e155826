"""Default point rules, levels and badges (all editable in the admin)."""

from django.db import migrations

RULES = [
    ("first_response", 5, 120),
    ("ticket_resolved", 10, None),
    ("chat_resolved", 10, None),
    ("five_star_survey", 15, None),
    ("article_published", 20, None),
    ("suggestion_accepted", 25, None),
    ("sla_breached", -10, None),
]
LEVELS = [("Rookie", 0), ("Helper", 100), ("Pro", 500), ("Expert", 1500), ("Legend", 5000)]
BADGES = [
    ("hundred-chats", "Chat champion", "100 chats resolved", "chats_resolved", 100, None, 1),
    ("csat-star", "Customer favourite", "A week with average CSAT of at least 4.8", "weekly_csat", "4.8", None, 5),
    ("speedy", "Speedy", "10 first responses within 30 seconds", "fast_first_responses", 10, 30, 1),
    ("thousand-points", "High scorer", "1,000 points", "points", 1000, None, 1),
]


def forwards(apps, schema_editor):
    PointRule = apps.get_model("gamification", "PointRule")
    Level = apps.get_model("gamification", "Level")
    Badge = apps.get_model("gamification", "Badge")
    for reason, points, target in RULES:
        PointRule.objects.get_or_create(reason=reason, defaults={"points": points, "target_seconds": target})
    for name, minimum in LEVELS:
        Level.objects.get_or_create(min_points=minimum, defaults={"name": name})
    for slug, name, description, criterion, threshold, seconds, minimum in BADGES:
        Badge.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "description": description, "criterion": criterion, "threshold": threshold, "seconds": seconds, "minimum": minimum},
        )


class Migration(migrations.Migration):
    dependencies = [("gamification", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
