from django.core.management.base import BaseCommand

from chat.catalogue.seeding import local_model_register


class Command(BaseCommand):
    help = (
        "Add the local llama.cpp model (bin/run-local starts it) to the model "
        "catalogue as the default; running servers use it without a restart."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", required=True)
        parser.add_argument("--model", default="smollm2")

    def handle(self, *args, base_url: str, model: str, **options):
        entry = local_model_register(base_url=base_url, model=model)
        self.stdout.write(f"{entry.name} is now the default model.")
