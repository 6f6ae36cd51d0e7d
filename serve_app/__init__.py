"""Tafsiri: multilingual translation and workflow orchestration on Ray Serve."""

__version__ = "0.1.0"
