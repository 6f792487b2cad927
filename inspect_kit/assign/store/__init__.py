"""Team assignment against the database (and team lists to files); called through inspect_kit.assign.service."""
