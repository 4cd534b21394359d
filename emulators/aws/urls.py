"""Routes the emulator adds in front of moto.

AWS API calls (any path not below) go to moto's own router (`moto.server.DomainDispatcherApplication`,
which tells services apart by the SigV4 credential scope). moto's `/moto-api/...` keeps working:
`GET /moto-api/` is the health check, `POST /moto-api/reset` also resets the emulator's own state.
"""

CONTROL_PREFIX = "/_certfleet/"
MOTO_RESET_PATH = "/moto-api/reset"

# Relative to /_certfleet/; each maps to a ControlApi method taking (body, **groups) and returning JSON.
CONTROL_PATHS = [
    ("GET", r"health", "health"),
    ("POST", r"reset", "reset"),
    ("GET", r"settings", "get_settings"),
    ("POST", r"settings", "update_settings"),
    ("GET", r"throttles", "list_throttles"),
    ("POST", r"throttles", "add_throttle"),
    ("POST", r"throttles/aws-quotas", "add_aws_quota_throttles"),
    ("DELETE", r"throttles", "clear_throttles"),
    ("GET", r"faults", "list_faults"),
    ("POST", r"faults", "add_fault"),
    ("DELETE", r"faults", "clear_faults"),
    ("GET", r"calls", "get_calls"),
    ("DELETE", r"calls", "clear_calls"),
    ("GET", r"clock", "get_clock"),
    ("POST", r"clock", "advance_clock"),
    ("GET", r"cloudfront/distributions", "list_distributions"),
    ("POST", r"cloudfront/deploy", "finish_deployments"),
    ("POST", r"cloudfront/next-id", "set_next_distribution_id"),
    ("GET", r"cloudfront/edge", "edge_address"),
    ("POST", r"cloudfront/distributions/(?P<distribution_id>[^/]+)/deploy", "finish_deployment"),
]
