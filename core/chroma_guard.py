"""A token check in front of a Chroma server.

The Chroma 1.x server has no authentication of its own (its docs point to a reverse proxy), so
`iurc chroma-guard` is that proxy: it listens where the app processes reach the store, refuses
every request without the shared token (`X-Chroma-Token: <token>` or `Authorization: Bearer
<token>`) with 401, and forwards the rest to the Chroma server, which listens on loopback only.
The app sends the token when IURC_CHROMA_TOKEN is set (core/store.py).

    chroma run --path /data/chroma --host 127.0.0.1 --port 8000
    IURC_CHROMA_TOKEN=… iurc chroma-guard --listen 10.0.0.5:8001 --upstream 127.0.0.1:8000
    IURC_CHROMA_TOKEN=… IURC_CHROMA_HOST=10.0.0.5 IURC_CHROMA_PORT=8001 iurc serve

Built on Starlette and httpx (both already installed with Gradio); the token is compared in
constant time.
"""
from __future__ import annotations

import secrets

# Hop-by-hop headers a proxy does not pass on (RFC 9110 7.6.1), and the token itself.
_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "x-chroma-token", "authorization"}


def given_token(headers) -> str:
    token = headers.get("x-chroma-token", "")
    if not token:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        token = value if scheme.lower() == "bearer" else ""
    return token


def build(upstream: str, token: str):
    """The ASGI app: 401 without the token, else the request forwarded to `upstream`
    (host:port of the Chroma server)."""
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    if len(token) < 16:
        raise ValueError("IURC_CHROMA_TOKEN must be at least 16 characters")
    client = httpx.AsyncClient(base_url=f"http://{upstream}", timeout=300)

    async def forward(request: Request):
        if not secrets.compare_digest(given_token(request.headers).encode(), token.encode()):
            return JSONResponse({"error": "Unauthorized", "message": "a valid X-Chroma-Token is required"},
                                status_code=401)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        upstream_response = await client.request(request.method, request.url.path, params=request.query_params,
                                                  content=await request.body(), headers=headers)
        kept = {k: v for k, v in upstream_response.headers.items() if k.lower() not in _HOP | {"content-encoding"}}
        return Response(upstream_response.content, status_code=upstream_response.status_code, headers=kept)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


def serve(listen: str, upstream: str, token: str) -> None:
    import uvicorn

    host, _, port = listen.rpartition(":")
    uvicorn.run(build(upstream, token), host=host or "127.0.0.1", port=int(port), log_level="warning")
