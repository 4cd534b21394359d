"""Routes of the Alidns emulator.

Alidns is RPC-style like CAS: every operation is `POST /` with its parameters in the query string; the
action comes from the `x-acs-action` header (ACS3 signing) or the `Action` parameter (v2 signing).
"""

API_PATHS = [
    ("POST", r"/", "dispatch"),
    ("GET", r"/", "dispatch"),
]

# Relative to /_emulator/alidns/; each maps to an AlidnsApi method returning JSON.
CONTROL_PATHS = [
    ("GET", r"domains", "control_list_domains"),
    ("POST", r"domains", "control_add_domain"),  # {"domain_name", "account_id"?}
    ("DELETE", r"domains/(?P<domain>[^/]+)", "control_delete_domain"),
    ("POST", r"domains/(?P<domain>[^/]+)/deny", "control_deny"),  # {"action", "access_key_id"?, "code"?}
    ("DELETE", r"domains/(?P<domain>[^/]+)/deny", "control_allow"),
    ("POST", r"records/(?P<record_id>\d+)/lock", "control_lock_record"),  # {"locked": bool}
    ("POST", r"accounts", "control_add_access_key"),  # {"access_key_id", "access_key_secret", "account_id"}
]
