"""Forensics for reading a duplicate or an orphan: after every `pulumi` run, which objects the servers show
for the first time and which faults hit the run; and from that, which run bought an orphan, what hit it,
and which later run bought the same entry again instead of finding it."""

from __future__ import annotations

from typing import Any

from scripts.campaign.servers import Servers
from scripts.campaign.stack import Run, generation_of


class Forensics:
    """Which run first showed each object at the servers (`known`), and what hit each run (`run_notes`)."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self.known: dict[tuple[str, str], dict] = {}
        self.run_notes: dict[int, dict] = {}

    def after_run(self, run: Run, generation: int, faults_before: dict | None) -> None:
        """Notes the run (and the faults that hit it, given the fault counters from before it) and the objects
        the servers show for the first time."""
        note: dict[str, Any] = {"label": run.label, "generation": generation, "killed": run.killed,
                                "delay": run.delay, "exit": run.returncode, "log": run.log.name}
        if faults_before is not None:
            after = self.servers.fault_counters()
            note["faults"] = {server: {k: v - faults_before.get(server, {}).get(k, 0) for k, v in counts.items()
                                       if v - faults_before.get(server, {}).get(k, 0)}
                              for server, counts in after.items()}
        self.run_notes[run.number] = note
        for key, obj in self.servers.inventory().items():
            if key not in self.known:
                self.known[key] = {**obj, "first_seen_run": run.number}

    def describe_run(self, number: int | None) -> str:
        note = self.run_notes.get(number or -1)
        if not note:
            return "before any run"
        if note["killed"] and note["delay"] is None:  # kill_when: at a moment it waited for
            how = "killed at the moment it waited for"
        elif note["killed"]:
            how = f"killed {note['delay']:.2f}s after its first step"
        elif note["delay"] is not None:
            how = f"exit {note['exit']} before its kill ({note['delay']:.2f}s after its first step)"
        else:
            how = f"exit {note['exit']}"
        faults = "; ".join(f"{server} " + ", ".join(f"{k} x{v}" for k, v in counts.items())
                           for server, counts in (note.get("faults") or {}).items() if counts)
        return f"run {number} {note['label']} (generation {note['generation']}, {how}" \
               f"{', faults: ' + faults if faults else ''}; {note['log']})"

    def explain_orphan(self, key: tuple[str, str], obj: dict, runs: list[Run]) -> str:
        """Which run bought it, what hit that run, and which later run bought the entry again."""
        entry = obj["entry"] if obj["kind"] != "cas" else obj["domain"].split(".")[0]
        generation = generation_of(obj["domain"])
        first = self.known.get(key, {}).get("first_seen_run")
        text = (f"{obj['kind']}/{entry} {obj['id']} ({obj['domain'] or 'no name yet'}, generation "
                f"{generation if generation is not None else '?'}, {obj['status']}): created in "
                f"{self.describe_run(first)}")
        again = sorted((known["first_seen_run"], known["id"]) for other, known in self.known.items()
                       if other != key and other[0] == key[0] and known["first_seen_run"] > (first or 0)
                       and (known.get("entry") if key[0] != "cas" else known["domain"].split(".")[0]) == entry
                       and generation_of(known.get("domain", "")) in (generation, None))
        if again:
            number, other_id = again[0]
            note = self.run_notes.get(first or -1, {})
            why = ("it was killed before the engine recorded the create, so the state never learnt of it"
                   if note.get("killed") else "it did not record it in the state")
            text += (f"; {why}, and {self.describe_run(number)} created {other_id} for the same entry instead of "
                     f"finding it (look-before-you-buy missed it: new objects stay out of the listings for a "
                     f"while, see the lag settings)")
        for run in runs:  # what a destroy said about it, if anything
            if run.label == "destroy":
                said = [line.strip() for line in run.output.splitlines() if obj["id"] in line]
                if said:
                    text += f"; run {run.number} destroy said: {said[0][:300]}"
                    break
        return text
