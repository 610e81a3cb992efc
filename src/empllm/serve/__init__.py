"""`empllm serve`: the empathetic agent behind an OpenAI-compatible API, with a web chat page."""
