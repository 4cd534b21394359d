"""DNS records certfleet writes for CA validation: one API module per DNS service (api.py) and the record provider."""
