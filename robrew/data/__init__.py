"""Demonstration data: collection, recording any policy, import, annotations and progress labels.

The public names load on first use (importing ``robrew.data`` loads no env):

Example:
    >>> from robrew.data import load_demos, record_demos, quality_mix, parse_mix
    >>> demos = load_demos("data/robrew/tabletop_pick_place/expert-mixed-v0")
"""

_FROM = {
    "Demo": "robrew.data.demos",
    "DatasetError": "robrew.data.demos",
    "load_demos": "robrew.data.demos",
    "collect_demos": "robrew.data.collect",
    "check_demos_fit": "robrew.data.demos",
    "record_demos": "robrew.data.record",
    "quality_mix": "robrew.data.record",
    "parse_mix": "robrew.data.record",
    "import_lerobot": "robrew.data.lerobot",
}

__all__ = sorted(_FROM)


def __getattr__(name: str):
    if name in _FROM:
        import importlib

        return getattr(importlib.import_module(_FROM[name]), name)
    raise AttributeError(f"module 'robrew.data' has no attribute {name!r}")
