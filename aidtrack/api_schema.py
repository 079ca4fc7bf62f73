"""OpenAPI post-processing: document what every read endpoint can answer besides 200."""

ERROR_BODY = {
    "type": "object",
    "description": "Each bad parameter (or `detail`) with its messages.",
    "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
}


def document_errors(result, generator, request, public):
    """A GET with query parameters can answer 400 (a bad parameter, named in the body) and 404 (an
    unknown `format` or page); `page` and `page_size` start at 1."""
    for path in result.get("paths", {}).values():
        operation = path.get("get")
        if not operation or not operation.get("parameters"):
            continue
        for parameter in operation["parameters"]:
            if parameter.get("name") in {"page", "page_size"}:
                parameter.setdefault("schema", {})["minimum"] = 1
        responses = operation.setdefault("responses", {})
        content = {"application/json": {"schema": ERROR_BODY}}
        if "text/csv" in responses.get("200", {}).get("content", {}):
            # Asked for CSV, an error comes as CSV too (field, error).
            content["text/csv"] = {"schema": {"type": "string"}}
        for code, description in [("400", "A bad parameter, named in the body"), ("404", "No such page or format")]:
            responses.setdefault(code, {"description": description, "content": content})
    return result
