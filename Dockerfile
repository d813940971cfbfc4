# Deep, Deep Trouble as one container: the site on port 8501, everything it needs inside.
#
#   docker build -t deep-deep-trouble .
#   docker run --rm -p 8501:8501 deep-deep-trouble
#
# The learned weights (assets/weights) and the sample images (scikit-image's bundled ones,
# installed with it) are in the image, so nothing is downloaded at run time. For a large
# class, compose.yaml runs several of these behind a proxy with sticky sessions.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# torch first, from the CPU wheel index: PyPI's default wheel is the CUDA build, gigabytes
# larger. The pin is requirements.txt's (tests/test_deploy.py checks that they agree), so
# the second install finds torch already satisfied and fetches only the rest.
COPY requirements.txt ./
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install -r requirements.txt

# The site runs as an unprivileged user; the code stays owned by root, read-only to it.
# /store is the on-disk result store (ui/store.py), the one folder it writes: a volume
# mounted there (compose.yaml) starts owned by the user, and outlives the container.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin ddt \
 && mkdir /store && chown ddt:ddt /store
ENV DDT_STORE=/store

# Only what the site imports or reads: no tests, benchmarks or training checkpoints.
COPY .streamlit/ .streamlit/
COPY assets/ assets/
COPY denoisers/ denoisers/
COPY ui/ ui/
COPY chapters/ chapters/
COPY app.py ./

USER ddt

EXPOSE 8501

# python:3.11-slim has no curl; urlopen raises (a non-zero exit) on an error status or no answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"]

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.fileWatcherType=none"]
