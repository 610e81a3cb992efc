"""Psychologist simulation: client and psychologist agents, the session loop, the resumable runner."""
