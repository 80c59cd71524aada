"""Every write to the catalogue tables, from admin or code, reloads the catalogue
in every process (see chat.catalogue.store); the registry of prices and windows
reads the catalogue first. Imported when the app is ready."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from chat.catalogue.store import catalogue_changed, catalogue_spec
from chat.llm.registry import set_catalogue_lookup
from chat.models import CatalogueEntry, CatalogueFallback


@receiver(post_save, sender=CatalogueEntry)
@receiver(post_delete, sender=CatalogueEntry)
@receiver(post_save, sender=CatalogueFallback)
@receiver(post_delete, sender=CatalogueFallback)
@receiver(m2m_changed, sender=CatalogueEntry.groups.through)
def _changed(**kwargs) -> None:
    catalogue_changed()


set_catalogue_lookup(catalogue_spec)
