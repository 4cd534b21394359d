"""The stack trace recorded with each resource: the project's own frames only.

The Python SDK sends the engine, with every resource, the whole interpreter stack at its constructor (the
language host, asyncio's loop, the SDK's own frames) and takes the first frame as the resource's source
position. The engine keeps that trace in the state: about 1.4 kB per certfleet resource of frames no one reads
(docs/scale.md), and, because certfleet's resources share a base class, every resource's source position was
that base class's line. Here the trace keeps the frames of this project (the components and `__main__.py`,
not its `.venv`), starting at the code that declared the resource: its position is the line that made it.

The SDK has no switch for this, so `install()` replaces its private `_get_stack_trace` (looked up at each call
in pulumi/runtime/resource.py). If a later SDK renames it, `install()` leaves the SDK as it is (the state is
larger again, nothing breaks) and tests/unit/test_source_positions.py fails, so the change is seen.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType

PROJECT = str(Path(__file__).resolve().parent.parent) + "/"
VENV = PROJECT + ".venv/"


def in_project(path: str) -> bool:
    return path.startswith(PROJECT) and not path.startswith(VENV)


def declaring_frames(frame: FrameType | None) -> list[tuple[str, int]]:
    """(file, line) of the project's frames outside the resource being constructed, innermost first.

    The resource is the `self` of the innermost `__init__` on the stack (the SDK's Resource.__init__); every
    frame of its own constructors (certfleet's base class, the resource class) is skipped, as the SDK means to.
    """
    constructing = None
    while frame is not None and constructing is None:
        if frame.f_code.co_name == "__init__":
            constructing = frame.f_locals.get("self")
        frame = frame.f_back
    frames = []
    while frame is not None:
        path = frame.f_code.co_filename
        if in_project(path) and not (frame.f_code.co_name == "__init__" and frame.f_locals.get("self")
                                     is constructing) and (not frames or frames[-1] != (path, frame.f_lineno)):
            frames.append((path, frame.f_lineno))
        frame = frame.f_back
    return frames


def install() -> bool:
    """Record project frames only; False (SDK unchanged) if the SDK has no `_get_stack_trace` any more."""
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    if not callable(getattr(resource, "_get_stack_trace", None)):
        return False

    def project_stack_trace() -> source_pb2.StackTrace:
        return source_pb2.StackTrace(frames=[
            source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=Path(path).as_uri(), line=line))
            for path, line in declaring_frames(sys._getframe(1))])

    resource._get_stack_trace = project_stack_trace
    return True
