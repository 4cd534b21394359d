"""Local emulators of the cloud APIs certfleet drives (see docs/emulators.md)."""
