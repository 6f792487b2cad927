"""Draws against the database (and a draw from a spreadsheet file); called through inspect_kit.draw.service."""
