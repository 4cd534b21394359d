"""URL table of the SCM emulator: (HTTP method, full-match path regex, handler method of ScmApi).

Paths are matched against the raw (still percent-encoded) request path; handlers decode the groups.
The operation name used for fault injection is the handler name in CamelCase, which is also the
SDK's request class name without "Request" (e.g. "SubscribeCertificate").
"""

CERTIFICATE = r"/v3/scm/certificates/(?P<certificate_id>[^/]+)"
RESOURCE = r"/v3/scm/(?P<resource_id>[^/]+)"

url_paths = [
    # v3, in the order of Huawei's API reference
    ("POST", r"/v3/scm/certificates/buy", "subscribe_certificate"),
    ("POST", r"/v3/scm/certificates/import", "import_certificate"),
    ("GET", r"/v3/scm/certificates", "list_certificates"),
    ("GET", CERTIFICATE, "show_certificate"),
    ("DELETE", CERTIFICATE, "delete_certificate"),
    ("POST", CERTIFICATE + r"/apply", "apply_certificate"),
    ("POST", CERTIFICATE + r"/cancel-cert", "cancel_certificate_request"),
    ("POST", CERTIFICATE + r"/export", "export_certificate"),
    ("DELETE", r"/v3/scm/certificates/(?P<cert_id>[^/]+)/unsubscribe", "unsubscribe_certificate"),
    # tags: the "look before you buy" lookup is list_certificates_by_tag
    ("GET", r"/v3/scm/tags", "list_all_tags"),
    ("POST", r"/v3/scm/(?P<resource_instances>[^/]+)/action", "list_certificates_by_tag"),
    ("POST", RESOURCE + r"/tags/action", "batch_create_or_delete_tags"),
    ("POST", RESOURCE + r"/tags", "create_certificate_tag"),
    ("GET", RESOURCE + r"/tags", "list_tags_by_certificate"),
    # legacy v2 (seed 003); not in the SDK
    ("POST", r"/v2/(?P<project_id>[^/]+)/scm/cert/purchase", "purchase_certificate_v2"),
    # IAM, for SDK clients built with a region and no domain id (they look the account up first)
    ("GET", r"/v3/auth/domains", "keystone_list_auth_domains"),
]

# Relative to /_emulator/scm/ (see emulators/core for the shared reset, faults, clock, ca, state).
CONTROL_CERTIFICATE = r"certificates/(?P<certificate_id>[^/]+)"

control_paths = [
    ("GET", r"certificates", "control_list_certificates"),
    ("GET", CONTROL_CERTIFICATE, "control_show_certificate"),
    ("POST", CONTROL_CERTIFICATE + r"/publish", "control_publish_challenge"),
    ("POST", CONTROL_CERTIFICATE + r"/approve", "control_approve"),
    ("POST", CONTROL_CERTIFICATE + r"/reject", "control_reject"),
    ("POST", CONTROL_CERTIFICATE + r"/status", "control_force_status"),
    ("POST", r"accounts", "control_add_access_key"),  # {"ak", "sk", "domain_id"}: another account's key pair
    ("GET", r"settings", "control_show_settings"),
    ("POST", r"settings", "control_update_settings"),
]
