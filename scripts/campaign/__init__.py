"""The crash-and-fault campaign (docs/campaign.md): `.venv/bin/python -m scripts.campaign [--short] ...`.

    processes.py  the campaign's marked processes: finding and killing them, free ports, JSON over HTTP
    servers.py    its own servers (moto behind the fault proxy, the CAS and SCM emulators) and their faults
    stack.py      the stack under test: the config per generation, the project copy, each `pulumi` run
    forensics.py  which run bought what, and what hit it (to explain a duplicate or an orphan)
    counts.py     the figures, counted at the servers, their bounds, and the printed block
    campaign.py   the steps: concurrent ups, kill phase, recovery and convergence, count
    renewal.py    the renewal phase (--renewal): kills over a renewal, one successor per entry
    __main__.py   the command line

The process markers are importable from here (the CI test checks that nothing marked is left running).
"""

from scripts.campaign.processes import MARKER, RUN_MARKER, _marked_pids, kill_marked

__all__ = ["MARKER", "RUN_MARKER", "_marked_pids", "kill_marked"]
