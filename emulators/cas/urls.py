"""Routes of the CAS emulator.

CAS is RPC-style: every operation is `POST /` with all parameters in the query string; the action
comes from the `x-acs-action` header (ACS3 signing, the SDK default) or the `Action` parameter (v2).
"""

API_PATHS = [
    ("POST", r"/", "dispatch"),
    ("GET", r"/", "dispatch"),  # Alibaba's RPC gateway accepts GET too
]

# Relative to /_emulator/cas/; each maps to a CasApi method returning JSON.
CONTROL_PATHS = [
    ("POST", r"orders/(?P<order_id>\d+)/publish", "control_publish_challenge"),
    ("POST", r"orders/(?P<order_id>\d+)/advance", "control_advance_order"),
    ("POST", r"orders/(?P<order_id>\d+)/fail", "control_fail_order"),
    ("GET", r"orders/(?P<order_id>\d+)", "control_get_order"),
    ("POST", r"packages", "control_set_package"),
    ("GET", r"settings", "control_get_settings"),
    ("POST", r"settings", "control_update_settings"),
]
