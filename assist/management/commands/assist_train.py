from django.core.management.base import BaseCommand

from assist import classifier


class Command(BaseCommand):
    help = "Train the team and tag classifiers on past tickets (also runs on a schedule)."

    def handle(self, *args, **options) -> None:
        classifier.train(stdout=self.stdout)
