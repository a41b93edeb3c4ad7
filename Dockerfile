# syntax=docker/dockerfile:1
# Two images from one file (compose.yaml builds both):
#   app (the default, last stage): the IVB-assistent web app and `chroma run`; CPU only,
#       runs as the non-root user "ivb", no llama.cpp inside.
#   llm: llama-cpp-python's OpenAI-compatible server, compiled for the portable x86-64
#       baseline of assistant/llm_build.py (AVX2 + FMA + F16C + BMI2; no AVX-512, no AMX),
#       so the image runs on any AVX2 host, not only on the one that built it.
# The models are not in either image: the compose service "models" fetches and checks them
# into the volume mounted at /models (IVB_MODEL_CACHE_DIR).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ----------------------------------------------------------------------------- llm
FROM ${PYTHON_IMAGE} AS llm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
# The same options as assistant/llm_build.BASELINE_CMAKE_ARGS (tests/test_deploy.py checks).
ENV CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
    FORCE_CMAKE=1
RUN pip install --no-cache-dir --no-binary llama-cpp-python "llama-cpp-python[server]==0.3.36" \
 && apt-get purge -y build-essential cmake && apt-get autoremove -y
RUN useradd --create-home --uid 10001 --user-group ivb
USER ivb
EXPOSE 8080
# compose.yaml gives the model file and the options.
ENTRYPOINT ["python", "-m", "llama_cpp.server"]

# ----------------------------------------------------------------------------- app
FROM ${PYTHON_IMAGE} AS app
# torch's CPU wheels; an unpinned torch from PyPI pulls the CUDA build (gigabytes).
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False GRADIO_ANALYTICS_ENABLED=False \
    IVB_MODEL_CACHE_DIR=/models IVB_STORE_DIR=/data/store IVB_CORPUS_DIR=/app/corpus \
    IVB_HOST=0.0.0.0 IVB_PORT=7860
# Tesseract's Dutch model reads scanned PDF pages (ingest/ocr.py).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-nld \
 && rm -rf /var/lib/apt/lists/*
RUN pip install --index-url "${TORCH_INDEX}" "torch==2.13.0"
WORKDIR /app
COPY pyproject.toml README.md ui.py ./
COPY assistant ./assistant
COPY ingest ./ingest
COPY web ./web
COPY corpus ./corpus
# Editable, so that the code finds corpus/ beside it (assistant.settings.REPO_ROOT).
RUN pip install -e ".[otel]"
RUN useradd --create-home --uid 10001 --user-group ivb \
 && mkdir -p /models /data/store/uploads /chroma \
 && chown -R ivb:ivb /models /data /chroma
USER ivb
VOLUME ["/models", "/data"]
EXPOSE 7860
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('IVB_PORT', '7860'), timeout=4)"]
CMD ["ivb", "serve"]
