"""Control routes of the DNS emulator, relative to /_emulator/dns/ (it has no vendor API of its own)."""

ZONE = r"zones/(?P<zone>[^/]+)"

CONTROL_PATHS = [
    ("GET", r"address", "control_address"),
    ("GET", r"zones", "control_list_zones"),
    ("PUT", ZONE, "control_put_zone"),
    ("GET", ZONE, "control_get_zone"),
    ("DELETE", ZONE, "control_delete_zone"),
    ("PUT", ZONE + r"/rrsets", "control_put_rrset"),
]
