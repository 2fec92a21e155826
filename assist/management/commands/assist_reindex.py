from django.core.management.base import BaseCommand

from assist import indexing


class Command(BaseCommand):
    help = "Rebuild the reply-suggestion index from canned responses, published articles and well-rated past replies."

    def handle(self, *args, **options) -> None:
        indexing.rebuild(stdout=self.stdout)
