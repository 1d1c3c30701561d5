"""Security headers every response carries (the middleware and the 500 handler)."""

from __future__ import annotations

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI (/docs) loads its bundle from jsDelivr and starts with an inline script.
# ReDoc (/redoc) also uses Google Fonts and a web worker.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; worker-src blob:; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "connect-src 'self'; frame-ancestors 'none'"
)
BASELINE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
