"""Domain types, lifecycle, errors, names and settings. No I/O lives here."""
