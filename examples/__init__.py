"""Runnable examples of using Tafsiri (see README)."""
