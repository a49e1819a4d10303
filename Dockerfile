# signlink service image. Same dependency list (pyproject.toml + requirements-nodeps.txt) and the same
# model build (`signlink models build`, signlink/modelfiles.py) as `make run`.
FROM python:3.11-slim-bookworm

# libEGL/libGLESv2: libmediapipe.so links them (FIELD-NOTES: a slim image lacks them).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libegl1 libgles2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml requirements-nodeps.txt README.md ./
COPY signlink ./signlink
RUN pip install --no-cache-dir --no-deps -r requirements-nodeps.txt \
    && pip install --no-cache-dir . \
    && SIGNLINK_MODEL_DIR=/app/models signlink models build

RUN useradd --system --home /app signlink
USER signlink
ENV SIGNLINK_HOST=0.0.0.0 \
    SIGNLINK_PORT=8080 \
    SIGNLINK_MODEL_DIR=/app/models
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)" || exit 1
CMD ["signlink", "serve"]
