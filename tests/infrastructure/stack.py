"""The stack a deploy would create, without AWS: template.yaml through SAM's own translator (samtranslator, the code
`sam deploy` runs), then CloudFormation's part played for one set of parameter values: conditions evaluated, `Fn::If`
branches chosen, resources whose condition is false dropped, `Ref`s to parameters replaced by their values.

What stays unresolved is what only a real deploy knows (`Fn::GetAtt`, `Fn::Sub` of resource names, pseudo
parameters); tests look at the shape around it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform

from tests.template import TEMPLATE, load_template

_MANAGED_POLICIES = {  # what SAM adds to the function's role; the translator looks their ARNs up
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSLambdaRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
}


class _Policies:
    def load(self) -> dict[str, str]:
        return _MANAGED_POLICIES


@cache
def _translated(path: Path, parameters: str) -> str:
    template = load_template(path)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):  # `sam deploy` uploads these; any S3 address stands in here
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://artifacts/{key}.zip"
        if resource["Type"] == "AWS::Serverless::Application" and isinstance(properties.get("Location"), str):
            properties["Location"] = "https://artifacts.s3.amazonaws.com/app.yaml"
    return json.dumps(transform(template, json.loads(parameters), _Policies()))


def translated(parameters: Mapping[str, Any] | None = None, path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as SAM hands it to CloudFormation (plain CloudFormation, with conditions left in)."""
    result: dict[str, Any] = json.loads(_translated(path, json.dumps(dict(parameters or {}), sort_keys=True)))
    return result


class Stack:
    """What CloudFormation would create from the translated template with these parameter values (defaults for the
    rest)."""

    def __init__(self, path: Path = TEMPLATE, **parameters: Any) -> None:
        template = translated(parameters, path)
        declared = template.get("Parameters", {})
        unknown = set(parameters) - set(declared)
        assert not unknown, f"no such parameters: {sorted(unknown)}"
        self.parameters = {name: parameters.get(name, spec.get("Default")) for name, spec in declared.items()}
        for name, spec in declared.items():
            if spec["Type"] == "CommaDelimitedList" and isinstance(self.parameters[name], str):
                self.parameters[name] = self.parameters[name].split(",")
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self._condition(name, template["Conditions"])
        self.resources: dict[str, dict[str, Any]] = {
            name: self.resolve(resource)
            for name, resource in template["Resources"].items()
            if self.conditions.get(resource.get("Condition", ""), True)
        }
        self.outputs = {
            name: self.resolve(output["Value"])
            for name, output in template.get("Outputs", {}).items()
            if self.conditions.get(output.get("Condition", ""), True)
        }

    def _condition(self, name: str, declared: Mapping[str, Any]) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self._evaluate(declared[name], declared))
        return self.conditions[name]

    def _evaluate(self, node: Any, declared: Mapping[str, Any]) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((function, args),) = node.items()
            if function == "Condition":
                return self._condition(args, declared)
            if function == "Ref":
                return self.parameters[args]
            values = [self._evaluate(arg, declared) for arg in (args if isinstance(args, list) else [args])]
            if function == "Fn::Equals":
                return values[0] == values[1]
            if function == "Fn::Not":
                return not values[0]
            if function == "Fn::Or":
                return any(values)
            if function == "Fn::And":
                return all(values)
            if function == "Fn::Join":
                return values[0].join(values[1])
            if function == "Fn::Select":
                return values[1][int(values[0])]
            if function == "Fn::Split":
                return values[1].split(values[0])
            if function == "Fn::Sub" and isinstance(values[0], str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.parameters[m[1]]), values[0])
            raise AssertionError(f"condition function not played here: {function}")
        return node

    def _value(self, node: Any) -> Any:
        """A string function of parameters only (Fn::Sub's one-string form, Fn::Split, Fn::Select), or LookupError."""
        if isinstance(node, str):
            return node
        ((function, args),) = node.items()
        if function == "Ref":
            return self.parameters[args]
        if function == "Fn::Sub" and isinstance(args, str):
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.parameters[m[1]]), args)
        if function == "Fn::Split":
            return self._value(args[1]).split(args[0])
        if function == "Fn::Select":
            return self._value(args[1])[int(args[0])]
        raise LookupError(function)

    def resolve(self, node: Any) -> Any:
        """`node` with `Fn::If` decided, `AWS::NoValue` dropped and `Ref`s to parameters replaced."""
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                condition, then, otherwise = node["Fn::If"]
                return self.resolve(then if self.conditions[condition] else otherwise)
            if set(node) == {"Ref"} and node["Ref"] in self.parameters:
                return self.parameters[node["Ref"]]
            if len(node) == 1 and next(iter(node)) in ("Fn::Select", "Fn::Split", "Fn::Sub"):
                try:  # a value made of parameters only, as CloudFormation computes it
                    return self._value(node)
                except LookupError:  # it names a resource or a pseudo parameter: only a deploy knows
                    pass
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value != {"Ref": "AWS::NoValue"}}
        if isinstance(node, list):
            return [self.resolve(item) for item in node if self.resolve(item) != {"Ref": "AWS::NoValue"}]
        return node

    def as_template(self) -> dict[str, Any]:
        """Plain CloudFormation for exactly this stack (no parameters, no conditions), for cfn-lint."""
        resources = {name: {k: v for k, v in r.items() if k != "Condition"} for name, r in self.resources.items()}
        outputs = {name: {"Value": value} for name, value in self.outputs.items()}
        return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources, "Outputs": outputs}

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == type_}

    def one(self, type_: str) -> dict[str, Any]:
        (resource,) = self.of_type(type_).values()
        return copy.deepcopy(resource["Properties"])

    def statements(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every IAM statement of every policy document in the stack, with the resource that holds it."""
        for name, resource in self.resources.items():
            for document in _documents(resource.get("Properties", {})):
                statements = document["Statement"]
                for statement in statements if isinstance(statements, list) else [statements]:
                    yield name, statement


def _documents(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "Statement" in node:
            yield node
        else:
            for value in node.values():
                yield from _documents(value)
    elif isinstance(node, list):
        for item in node:
            yield from _documents(item)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
