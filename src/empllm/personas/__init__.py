"""Persona cards: the built-in library and the loader for users' own files."""

from empllm.personas.loader import builtin_personas, load_personas

__all__ = ["builtin_personas", "load_personas"]
