# The Journeys image: the same package `make run` installs (pip install .), plus the journeys/ folder.
# One image, one command per service (docker-compose.yml picks it):
#   journeys api      the HTTP API (uvicorn) on JOURNEYS_API_HOST:JOURNEYS_API_PORT   (the default)
#   journeys worker   the Temporal worker: runs the journey workflows and their activities
#   journeys setup    one-shot: search attributes in Temporal, store migrated, journeys deployed
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY contracts contracts
COPY config config
COPY engine engine
COPY store store
COPY measurement measurement
COPY outbox outbox
COPY workflows workflows
COPY activities activities
COPY ingest ingest
COPY worker worker
COPY api api
COPY provision provision
COPY simulate simulate
COPY devstack devstack
COPY cli cli
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app journeys \
    && mkdir -p /app/data && chown journeys /app/data

COPY journeys journeys

USER journeys
ENV JOURNEYS_JOURNEYS_DIR=/app/journeys \
    JOURNEYS_DATA_DIR=/app/data \
    JOURNEYS_API_HOST=0.0.0.0 \
    JOURNEYS_API_PORT=8000
EXPOSE 8000
CMD ["journeys", "api"]
