"""A real uvicorn server on a free port, in a background thread, for the serve tests."""

import threading
import time
from contextlib import contextmanager

import uvicorn

from empllm.backends.llama_server import free_port
from empllm.serve.app import ServeConfig, create_app


@contextmanager
def running_server(runtime, **config):
    port = free_port()
    app = create_app(runtime, ServeConfig(model_name=config.pop("model_name", "empllm-test"), **config))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
