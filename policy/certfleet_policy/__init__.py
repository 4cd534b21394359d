"""certfleet's CrossGuard policies (docs/policy.md). checks.py: the rules on plain data; pack.py: the pack."""
