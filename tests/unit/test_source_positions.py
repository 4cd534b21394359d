"""components/source_positions.py: the stack trace sent with a resource keeps the project's frames only."""

import sys

from pulumi.runtime import resource

from components import source_positions
from components.source_positions import declaring_frames, in_project


class Base:
    def __init__(self):
        self.frames = declaring_frames(sys._getframe(0))


class Made(Base):
    def __init__(self):
        super().__init__()


class Maker:
    def __init__(self):
        self.made = [Made() for _ in range(1)]


def test_frames_start_at_the_code_that_declared_the_resource():
    maker = Maker()
    here = __file__
    frames = maker.made[0].frames
    lines = [line for path, line in frames if path == here]
    # the comprehension and Maker.__init__ (another object's constructor) stay; Base and Made's __init__ go
    assert frames[0][0] == here and frames[0][1] == Maker.__init__.__code__.co_firstlineno + 1
    assert len(lines) >= 2
    assert all(in_project(path) for path, _ in frames)
    assert all(a != b for a, b in zip(frames, frames[1:])), "the comprehension's frame is the same place: kept once"


class SameLine:
    def __init__(self):
        self.made = [Made() for _ in range(1)]   # the comprehension's frame and this one: one line


def test_a_frame_at_the_same_place_as_the_one_inside_it_is_kept_once():
    frames = SameLine().made[0].frames
    here = [line for path, line in frames if path == __file__]
    assert here[0] == SameLine.__init__.__code__.co_firstlineno + 1
    assert here.count(here[0]) == 1


def test_frames_outside_the_project_are_left_out():
    assert not in_project(sys.modules["pulumi"].__file__)        # the SDK in .venv
    assert not in_project(sys.modules["json"].__file__)          # the standard library
    assert in_project(source_positions.__file__)


class Registered:
    def __init__(self):
        self.trace = resource._get_stack_trace()   # as the SDK's register_resource asks it


def test_install_replaces_the_sdks_stack_trace():
    original = resource._get_stack_trace
    try:
        assert source_positions.install(), "the SDK has no _get_stack_trace any more: see the module docstring"
        trace = Registered().trace
        uris = [frame.pc.uri for frame in trace.frames]
        assert uris and all(uri.startswith("file://" + source_positions.PROJECT) for uri in uris)
        assert not any("/.venv/" in uri for uri in uris)
    finally:
        resource._get_stack_trace = original
