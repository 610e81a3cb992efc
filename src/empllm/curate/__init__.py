"""Curation: filters that keep or drop simulated sessions, each decision with a reason code."""
