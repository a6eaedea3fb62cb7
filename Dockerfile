# One image for every Crossdock process (worker, intake/console, sandbox, pollers).
FROM python:3.11.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crossdock ./crossdock
COPY workflows ./workflows
COPY activities ./activities
COPY starter ./starter
COPY worker.py ./
RUN pip install --no-cache-dir ".[tracing]"
# worker.py sits beside the packages: `crossdock worker` and `crossdock replay` import it.
# The build id of Worker Deployments (crossdock/versioning.py): the image has no .git.
ARG CROSSDOCK_GIT_SHA=unknown
ENV PYTHONUNBUFFERED=1 PYTHONPATH=/app CROSSDOCK_GIT_SHA=${CROSSDOCK_GIT_SHA}
CMD ["python", "worker.py"]
