# One image for every Crossdock process (worker, intake/console, sandbox, pollers).
FROM python:3.11.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY crossdock ./crossdock
COPY workflows ./workflows
COPY activities ./activities
COPY starter ./starter
COPY worker.py ./
RUN pip install --no-cache-dir .
# worker.py sits beside the packages: `crossdock worker` and `crossdock replay` import it.
ENV PYTHONUNBUFFERED=1 PYTHONPATH=/app
CMD ["python", "worker.py"]
