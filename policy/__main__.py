"""Entry point the Python language host runs: `<venv>/bin/python <pack dir> <engine address>` (docs/policy.md).

Nothing may be written to stdout before PolicyPack prints its port (reference pulumi-pipelines.md §1.3).
"""

from certfleet_policy.pack import serve

serve()
