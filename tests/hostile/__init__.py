"""Hostile and broken landing input for the reliability tests (docs/reliability.md)."""
