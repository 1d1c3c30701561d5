"""The OpenAPI document describes the contract: routes, security and problem responses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

PUBLIC_API_OPERATIONS = {
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/refresh"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
PROBLEM_REF = "#/components/schemas/Problem"

# The spec's "Authentication (built-in accounts)" and "Tasks" tables.
CONTRACT_OPERATIONS = [
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/users/me"),
    ("patch", "/api/v1/users/me"),
    ("post", "/api/v1/users/me/password"),
    ("delete", "/api/v1/users/me"),
    ("get", "/api/v1/tasks"),
    ("post", "/api/v1/tasks"),
    ("get", "/api/v1/tasks/{task_id}"),
    ("patch", "/api/v1/tasks/{task_id}"),
    ("put", "/api/v1/tasks/{task_id}"),
    ("delete", "/api/v1/tasks/{task_id}"),
    ("post", "/api/v1/tasks/{task_id}/complete"),
    ("post", "/api/v1/tasks/{task_id}/reopen"),
]


@pytest.fixture
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _template(path: str) -> str:
    """``/tasks/{id}`` and ``/tasks/{task_id}`` name the same route."""
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


async def test_openapi_json_is_served(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]
    assert spec["paths"]


async def test_swagger_ui_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()
    assert "/openapi.json" in response.text


async def test_every_private_api_operation_declares_security(spec: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in operations(spec)
        if path.startswith("/api/v1/")
        and (method, path) not in PUBLIC_API_OPERATIONS
        and not operation.get("security")
    ]
    assert missing == []


async def test_public_auth_operations_need_no_token(spec: dict[str, Any]) -> None:
    for method, path in PUBLIC_API_OPERATIONS:
        operation = spec["paths"][path][method]
        assert not operation.get("security"), f"{method.upper()} {path}"
    assert not spec.get("security"), "a global security requirement would cover register/login"


async def test_bearer_and_oauth2_password_schemes_are_declared(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    bearer = [
        name
        for name, scheme in schemes.items()
        if scheme["type"] == "http" and scheme.get("scheme", "").lower() == "bearer"
    ]
    password = [
        name
        for name, scheme in schemes.items()
        if scheme["type"] == "oauth2" and "password" in scheme.get("flows", {})
    ]
    assert bearer, schemes
    assert password, schemes
    token_url = schemes[password[0]]["flows"]["password"]["tokenUrl"]
    assert token_url.endswith("/api/v1/auth/token")


async def test_security_requirements_name_declared_schemes(spec: dict[str, Any]) -> None:
    declared = set(spec["components"]["securitySchemes"])
    for method, path, operation in operations(spec):
        for requirement in operation.get("security", []):
            assert set(requirement) <= declared, f"{method.upper()} {path}"


async def test_every_documented_4xx_is_problem_json(spec: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in operations(spec):
        for code, response in operation["responses"].items():
            if not code.startswith("4"):
                continue
            content = response.get("content", {})
            schema = content.get("application/problem+json", {}).get("schema", {})
            if set(content) != {"application/problem+json"} or schema.get("$ref") != PROBLEM_REF:
                wrong.append(f"{method.upper()} {path} {code}: {content}")
    assert wrong == []


async def test_problem_schema_has_the_rfc_9457_members(spec: dict[str, Any]) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    assert {"type", "title", "status", "detail"} <= set(problem["required"])


async def test_fastapis_own_validation_error_shape_is_not_documented(
    spec: dict[str, Any],
) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]


@pytest.mark.parametrize(("method", "path"), CONTRACT_OPERATIONS)
async def test_contract_operation_exists(spec: dict[str, Any], method: str, path: str) -> None:
    documented = {(m, _template(p)) for m, p, _ in operations(spec)}
    assert (method, _template(path)) in documented


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("post", "/api/v1/tasks", "201"),
        ("delete", "/api/v1/tasks/{task_id}", "204"),
        ("get", "/api/v1/tasks/{task_id}", "304"),
        ("patch", "/api/v1/tasks/{task_id}", "412"),
        ("put", "/api/v1/tasks/{task_id}", "412"),
        ("get", "/api/v1/tasks/{task_id}", "404"),
        ("get", "/api/v1/tasks", "401"),
        ("post", "/api/v1/tasks", "413"),
        ("post", "/api/v1/tasks", "415"),
        ("post", "/api/v1/tasks", "422"),
    ],
)
async def test_task_operations_document_their_statuses(
    spec: dict[str, Any], method: str, path: str, code: str
) -> None:
    item = next(v for p, v in spec["paths"].items() if _template(p) == _template(path))
    assert code in item[method]["responses"]


@pytest.mark.parametrize("schema", ["TaskCreate", "TaskUpdate", "TaskReplace"])
async def test_task_request_schemas_forbid_unknown_fields(
    spec: dict[str, Any], schema: str
) -> None:
    component = spec["components"]["schemas"][schema]
    assert component.get("additionalProperties") is False
    assert not {"id", "version", "created_at", "updated_at", "completed_at", "user_id"} & set(
        component["properties"]
    )


async def test_list_parameters_are_documented(spec: dict[str, Any]) -> None:
    parameters = spec["paths"]["/api/v1/tasks"]["get"]["parameters"]
    names = {parameter["name"] for parameter in parameters}
    expected = {
        "status",
        "priority",
        "due_before",
        "due_after",
        "overdue",
        "sort",
        "limit",
        "cursor",
    }
    assert expected <= names
    limit = next(p for p in parameters if p["name"] == "limit")["schema"]
    assert (limit.get("minimum"), limit.get("maximum")) == (1, 100)
