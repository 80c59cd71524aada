"""Write the rated replies as an evaluation dataset: JSON Lines of prompt, reply,
rating, comment and model (chat.feedback.dataset_rows)."""

from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chat.feedback import dataset_jsonl
from chat.models import Feedback


class Command(BaseCommand):
    help = (
        "Export feedback on replies as JSON Lines (prompt, reply, rating, comment, "
        "model), to stdout or --output; optionally only --rating or --model, --since."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", help="A file to write (default: stdout).")
        parser.add_argument("--rating", choices=Feedback.Rating.values)
        parser.add_argument("--model", help="Only replies of this model name.")
        parser.add_argument("--since", help="Only ratings from this day (YYYY-MM-DD).")

    def handle(self, *args, output=None, rating=None, model=None, since=None, **_):
        rows = Feedback.objects.all()
        if rating:
            rows = rows.filter(rating=rating)
        if model:
            rows = rows.filter(model=model)
        if since:
            try:
                day = date.fromisoformat(since)
            except ValueError:
                raise CommandError("--since takes a day, YYYY-MM-DD.") from None
            start = timezone.make_aware(datetime.combine(day, time.min))
            rows = rows.filter(updated__gte=start)
        if output is None:
            for line in dataset_jsonl(rows):
                self.stdout.write(line, ending="")
            return
        count = 0
        with open(output, "w", encoding="utf-8") as out:
            for line in dataset_jsonl(rows):
                out.write(line)
                count += 1
        self.stderr.write(f"Wrote {count} rated repl{'y' if count == 1 else 'ies'}.")
