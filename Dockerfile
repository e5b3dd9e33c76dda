# ksm-py: the package and its dependencies on a slim Python, run as nobody (uid/gid 65534).
#   docker build -t ghcr.io/ksm-py/ksm-py:0.1.0 .
#   docker run --rm -p 8080:8080 -p 8081:8081 ghcr.io/ksm-py/ksm-py:0.1.0 --kubeconfig=/kubeconfig
# deploy/ runs it with a read-only root filesystem and no capabilities.
# BASE: any image with python3.11 and pip on PATH; CI passes a stand-in built from Debian packages
# (harness/image.py), as python:3.11-slim cannot be pulled there.
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Graphviz's dot draws /topology/ui (without it the page lists the components and says why).
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY ksm_py ./ksm_py
# Only the package (no test extras); bytecode is compiled here, as the root filesystem is read-only later.
RUN pip install --no-cache-dir . \
    && rm -rf /src

WORKDIR /
ENV PYTHONDONTWRITEBYTECODE=1
USER 65534:65534
EXPOSE 8080 8081
ENTRYPOINT ["ksm-py"]
