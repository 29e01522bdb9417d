"""Intrinsic functions, conditions, mappings, parameters and pseudo parameters, evaluated against what is known
locally: a `Resolver` holds the parameter values and the physical ids and attributes of the resources created so
far. A value only CloudFormation can know (an HTTP API's id) raises `Unresolvable`."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from acuity_sync_toolkit.stack.cloudformation.errors import TemplateError, Unresolvable
from acuity_sync_toolkit.stack.cloudformation.template import NAME_PROPERTIES

_PSEUDO_PARAMETERS = (
    "AWS::StackName",
    "AWS::Region",
    "AWS::AccountId",
    "AWS::URLSuffix",
    "AWS::Partition",
    "AWS::StackId",
    "AWS::NoValue",
    "AWS::NotificationARNs",
)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _NoValue:
    """AWS::NoValue: the property or list element it stands for is removed."""


NO_VALUE = _NoValue()


class Resolver:
    """Evaluates intrinsic functions against what is known locally: parameters, pseudo parameters, mappings,
    conditions, and the physical ids and attributes of the resources created so far."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        stack_name: str,
        region: str,
        account_id: str,
        parameters: Mapping[str, str] | None,
    ) -> None:
        self.template = template
        self.resources: dict[str, dict[str, Any]] = template["Resources"]
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.parameters = _parameter_values(template.get("Parameters") or {}, parameters or {})
        self.physical_ids: dict[str, str] = {}
        self.attributes: dict[str, dict[str, str]] = {}
        self._conditions: dict[str, bool] = {}

    # -- what exists

    def is_active(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    def active_resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if (not types or resource.get("Type") in types) and self.is_active(logical_id):
                yield logical_id, resource

    def record(self, logical_id: str, physical_id: str, attributes: Mapping[str, str]) -> None:
        self.physical_ids[logical_id] = physical_id
        self.attributes[logical_id] = dict(attributes)

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions") or {}
            if name not in definitions:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(definitions[name]))
        return self._conditions[name]

    # -- evaluation

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key == "Ref":
                    return self._ref(argument)
                if key == "Condition" and isinstance(argument, str):
                    return self.condition(argument)
                if key.startswith("Fn::"):
                    return self._function(key, argument)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(element) for element in value) if item is not NO_VALUE]
        return value

    def resolve_string(self, value: Any) -> str:
        return as_string(self.resolve(value))

    def _function(self, name: str, argument: Any) -> Any:
        handler = self._FUNCTIONS.get(name)
        if handler is None:
            raise TemplateError(f"{name} is not supported by the local stack")
        return handler(self, argument)

    def _ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in _PSEUDO_PARAMETERS:
            return self._pseudo(name)
        if name in self.physical_ids:
            return self.physical_ids[name]
        resource = self.resources.get(name)
        if resource is None:
            raise TemplateError(f"Ref to {name!r}, which is neither a parameter nor a resource")
        name_property = NAME_PROPERTIES.get(resource.get("Type", ""))
        if name_property and name_property in resource.get("Properties", {}):
            return self.resolve(resource["Properties"][name_property])
        raise Unresolvable(f"Ref {name} ({resource.get('Type')}) is known only to CloudFormation")

    def _pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        return values[name]

    def _get_att(self, argument: Any) -> str:
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        resource, attribute = (self.resolve(part) for part in parts)
        if resource not in self.resources:
            raise TemplateError(f"GetAtt of unknown resource {resource!r}")
        try:
            return self.attributes[resource][attribute]
        except KeyError:
            raise Unresolvable(f"GetAtt {resource}.{attribute} is known only to CloudFormation") from None

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = argument[0], self.resolve(argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return as_string(variables[name])
            if "." in name and name not in self.parameters:
                return as_string(self._get_att(name.split(".", 1)))
            return as_string(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _join(self, argument: Any) -> str:
        delimiter, values = argument
        return str(delimiter).join(as_string(value) for value in self.resolve(values))

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (as_string(self.resolve(value)) for value in argument)
        return left == right

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top_key, second_key = (self.resolve_string(part) for part in argument[:3])
        try:
            return self.template["Mappings"][map_name][top_key][second_key]
        except (KeyError, TypeError):
            raise TemplateError(f"FindInMap [{map_name}, {top_key}, {second_key}] is not in Mappings") from None

    def _select(self, argument: Any) -> Any:
        index, values = argument
        return self.resolve(values)[int(self.resolve(index))]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return self.resolve_string(text).split(delimiter)

    def _import_value(self, argument: Any) -> Any:
        raise Unresolvable(f"ImportValue {argument!r} needs another stack")

    _FUNCTIONS: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Fn::GetAtt": _get_att,
        "Fn::Sub": _sub,
        "Fn::Join": _join,
        "Fn::If": _if,
        "Fn::Equals": _equals,
        "Fn::Not": lambda self, argument: not self.resolve(argument[0]),
        "Fn::And": lambda self, argument: all(self.resolve(value) for value in argument),
        "Fn::Or": lambda self, argument: any(self.resolve(value) for value in argument),
        "Fn::FindInMap": _find_in_map,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::Base64": lambda self, argument: base64.b64encode(self.resolve_string(argument).encode()).decode(),
        "Fn::GetAZs": lambda self, _argument: [f"{self.region}{zone}" for zone in "abc"],
        "Fn::ImportValue": _import_value,
    }


def as_string(value: Any) -> str:
    """A resolved value as CloudFormation writes it into a string (an environment variable, a Sub)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(as_string(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _parameter_values(declared: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameters: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, declaration in declared.items():
        if name in given:
            value = str(given[name])
        elif "Default" in declaration:
            value = as_string(declaration["Default"])
        else:
            raise TemplateError(f"parameter {name} has no default: pass it in parameters")
        allowed = declaration.get("AllowedValues")
        if allowed is not None and value not in [as_string(option) for option in allowed]:
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        comma_list = declaration.get("Type") == "CommaDelimitedList"
        values[name] = value.split(",") if comma_list else value
    return values


# ----------------------------------------------------------------------------------------------- references


def references(value: Any, *, exclude: frozenset[str] = frozenset()) -> set[str]:
    """The names a value refers to through Ref, GetAtt and Sub (parameters and resources alike)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item, exclude=exclude)
    elif isinstance(value, dict):
        for key, argument in value.items():
            found |= _references_of(key, argument, exclude)
    return found - exclude


def _references_of(key: str, argument: Any, exclude: frozenset[str]) -> set[str]:
    if key == "Ref" and isinstance(argument, str):
        return {argument}
    if key == "Fn::GetAtt":
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        return {parts[0]} if isinstance(parts[0], str) else references(parts[0], exclude=exclude)
    if key == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        names = {match.split(".", 1)[0] for match in _SUB_VARIABLE.findall(text) if not match.startswith("!")}
        return (names - set(variables)) | references(variables, exclude=exclude)
    return references(argument, exclude=exclude)
