"""The crisis-safety layer: detection, locale resources, the crisis reply and the event log."""
