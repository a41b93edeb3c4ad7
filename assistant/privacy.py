"""Keep every library offline and quiet: no telemetry, no model hub.

Imported first by the settings module, so these variables are set before chromadb,
gradio, huggingface_hub or transformers read them.
"""

from __future__ import annotations

import os

_OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "CHROMA_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply() -> None:
    """Set the offline and no-telemetry switches unless the operator set them already."""
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
