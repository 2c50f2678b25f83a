"""The benchmark's baseline: the least a Starlette app can do to answer the measured calls.

Each route answers a fixed JSON body of the mock's size and shape, without reading the
request: POST /v1/viewer/studies a Study (201), GET and PATCH /v1/viewer/studies/{studyId}
a Study (200), GET /v1/viewer/studies a page of ``PAGE_SIZE`` studies (200). Measured in the
same run as the mock, it says how much of the mock's cost is its own work rather than the
framework's, the server's or the machine's. ``main`` serves it as ``avara-mock serve``
serves the mock: a socket bound by ``mockserver.cli.bind``, the same ``uvicorn.Config``
(uvloop and httptools picked by "auto", lifespan off), but silent (log level warning): the
mock is measured as users start it, access log included, so the ratio counts that cost.

Run: ``python bench/bare_app.py --port PORT``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STUDY = (
    b'{"studyId":"stu_95ac023f77fdd485ecff86a6bb1d4783","metadata":{"site":"north"},'
    b'"severity":"high","studyDescription":"CT Chest",'
    b'"studyInstanceUid":"1.2.840.113619.2.55.1","cancelledAt":null,"isCancelled":false,'
    b'"studyViewerStatus":"incomplete","createdAt":"2026-01-01T00:00:00.000Z",'
    b'"updatedAt":"2026-01-01T00:00:00.000Z","assignedTo":null,"expressCustomer":null,'
    b'"createdByApiKey":{"apiKeyId":"06301d66-6fab-4370-911b-6cf2a8a5f2f2",'
    b'"description":"Nguyen Inc Reporting worklist key","isViewerEnabled":true,'
    b'"isClinicalContextEnrichmentEnabled":false},"createdByUser":null}'
)


PAGE_SIZE = 20
PAGE = b'{"studies":[%s],"cursor":"%s","hasMore":true}' % (
    b",".join([STUDY] * PAGE_SIZE),
    b"eyJjcmVhdGVkQXQiOiIyMDI2LTAxLTAxVDAwOjAwOjAwLjAwMFoiLCJzdHVkeUlkIjoic3R1In0",
)


async def create_study(request: Request) -> Response:
    """The fixed study, whatever was sent."""
    return Response(STUDY, status_code=201, media_type="application/json")


async def one_study(request: Request) -> Response:
    """The fixed study, for a retrieve or an update of any id."""
    return Response(STUDY, media_type="application/json")


async def list_studies(request: Request) -> Response:
    """The fixed page, whatever the query."""
    return Response(PAGE, media_type="application/json")


def create() -> Starlette:
    """A new bare app (also usable as ``uvicorn bench.bare_app:create --factory``)."""
    return Starlette(
        routes=[
            Route("/v1/viewer/studies", create_study, methods=["POST"]),
            Route("/v1/viewer/studies", list_studies, methods=["GET"]),
            Route("/v1/viewer/studies/{study_id}", one_study, methods=["GET", "PATCH"]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the bare app with the mock's server settings until interrupted."""
    import uvicorn

    from mockserver.cli import bind

    parser = argparse.ArgumentParser(description="Serve the benchmark's bare Starlette app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    print(f"bare app serving at http://{host}:{port}", flush=True)
    config = uvicorn.Config(create(), log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
