from datetime import timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management.base import BaseCommand

from chat.delivery.sweeper import stale_replies_sweep


class Command(BaseCommand):
    help = "Mark replies left `streaming` by a process that died as `interrupted`."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            help="Seconds without progress (default: CHAT_STALE_STREAM_SECONDS).",
        )

    def handle(self, *args, older_than=None, **options):
        seconds = (
            settings.CHAT_STALE_STREAM_SECONDS if older_than is None else older_than
        )
        count = async_to_sync(stale_replies_sweep)(
            older_than=timedelta(seconds=seconds)
        )
        self.stdout.write(f"Marked {count} stale replies as interrupted.")
