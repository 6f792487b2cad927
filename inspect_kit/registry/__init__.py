"""两库: the entity and inspector registries, and declared conflicts (import, export, history)."""
