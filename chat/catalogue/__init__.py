"""The model catalogue: which models people may chat with, on what terms.

Operators manage entries in admin (chat.models.CatalogueEntry); every process keeps
them in memory and reloads them when any process saves one (chat.catalogue.store).
"""
