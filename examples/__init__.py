"""Runnable examples of using Tafsiri (see docs/deployment.md)."""
