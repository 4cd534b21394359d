"""URL table of the Huawei DNS emulator: (HTTP method, full-match path regex, handler method of HuaweiDnsApi).

The operation name used for fault injection and IAM denials is the handler name in CamelCase, which is
also the SDK's request class name without "Request" (e.g. "CreateRecordSet").
"""

ZONE = r"/v2/zones/(?P<zone_id>[^/]+)"
RECORD_SET = ZONE + r"/recordsets/(?P<recordset_id>[^/]+)"

url_paths = [
    ("GET", r"/v2/zones", "list_public_zones"),
    ("GET", ZONE, "show_public_zone"),
    ("POST", ZONE + r"/recordsets", "create_record_set"),
    ("GET", ZONE + r"/recordsets", "list_record_sets_by_zone"),
    ("GET", RECORD_SET, "show_record_set"),
    ("PUT", RECORD_SET, "update_record_set"),
    ("DELETE", RECORD_SET, "delete_record_set"),
]

# Relative to /_emulator/huaweidns/ (see emulators/core for the shared reset, faults, clock, state).
control_paths = [
    ("GET", r"zones", "control_list_zones"),
    ("POST", r"zones", "control_add_zone"),  # {"name", "domain_id"?} -> the zone (with its id)
    ("DELETE", r"zones/(?P<zone_id>[^/]+)", "control_delete_zone"),
    ("POST", r"zones/(?P<zone_id>[^/]+)/deny", "control_deny"),  # {"operation", "ak"?}
    ("DELETE", r"zones/(?P<zone_id>[^/]+)/deny", "control_allow"),
    ("POST", r"accounts", "control_add_access_key"),  # {"ak", "sk", "domain_id", "project_id"?}
    ("GET", r"settings", "control_show_settings"),
    ("POST", r"settings", "control_update_settings"),  # {"pending_reads": n}
]
