"""HTTP API of the correction service: routes, wire schemas and the OpenAPI document."""
