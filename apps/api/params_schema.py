"""The native API's ``params`` in the OpenAPI schema, from the operations' declarations: one
component per operation that takes parameters (``UpscaleParams``: each parameter's type,
values, default and label), so the schema says what the engine accepts, and a registered
operation is documented the moment it is registered."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent

from apps.imaging import operations

TYPES = {int: "integer", str: "string"}


def component_name(operation: operations.Operation) -> str:
    return "".join(part.title() for part in operation.name.split("_")) + "Params"


def params_schema(operation: operations.Operation) -> dict:
    properties = {}
    for param in operation.params:
        description = param.label + (f". {param.help_text}" if param.help_text else "")
        properties[param.name] = {
            "type": TYPES[param.type], "enum": list(param.values), "default": param.default,
            "description": description,
        }
    return {
        "type": "object", "properties": properties, "additionalProperties": False,
        "description": f"The parameters of {operation.name}; each one left out takes its default.",
    }


def describe() -> str:
    taking = [operation for operation in operations.REGISTRY.values() if operation.params]
    none = [name for name, operation in operations.REGISTRY.items() if not operation.params]
    parts = [
        f"{operation.name}: "
        + ", ".join(f"{param.name} ({' or '.join(map(str, param.values))}; default {param.default})"
                    for param in operation.params)
        for operation in taking
    ]
    if none:
        parts.append(f"{', '.join(none)}: none")
    return f"Operation parameters as a JSON object, each optional. {'. '.join(parts)}."


class OperationParamsExtension(OpenApiSerializerFieldExtension):
    target_class = "apps.api.serializers.OperationParamsField"

    def map_serializer_field(self, auto_schema, direction):
        refs = []
        for operation in operations.REGISTRY.values():
            if operation.params:
                component = ResolvedComponent(
                    component_name(operation), ResolvedComponent.SCHEMA,
                    schema=params_schema(operation), object=operation.name,
                )
                auto_schema.registry.register_on_missing(component)
                refs.append(component.ref)
        schema = {"type": "object", "description": describe()}
        if refs:
            schema["anyOf"] = refs
        return schema
