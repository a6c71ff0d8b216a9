"""The one CloudFormation template loader of the tests: `template.yaml` (or another template, such as
`examples/cognito/template.yaml`) with CloudFormation's short tags read as their long forms
(`!Ref X` -> {"Ref": "X"}, `!Sub s` -> {"Fn::Sub": "s"}, `!GetAtt R.A` -> {"Fn::GetAtt": ["R", "A"]})."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "template.yaml"


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's intrinsic-function tags, every one of them."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":  # `!GetAtt Resource.Attribute` is the short form of a two-item list
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{tag_suffix}", node.start_mark)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@cache
def _parsed(path: Path) -> dict[str, Any]:
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506 - SafeLoader subclass
    assert isinstance(loaded, dict), path
    return loaded


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template at `path`, parsed once per run; each caller gets its own copy to change as it likes."""
    return copy.deepcopy(_parsed(path))
