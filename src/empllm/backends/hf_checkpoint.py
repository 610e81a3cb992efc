"""Where an `hf:` target's checkpoint is: a local folder, or a Hugging Face hub id (`org/name`)
resolved through the Hugging Face cache. With `HF_HUB_OFFLINE=1` only the cache is read; otherwise
a model missing from the cache is downloaded once. Either failure is one line, not a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

from empllm.errors import BackendUnavailable

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # org/name, as the hub spells repository ids


def is_hub_id(target: str) -> bool:
    return bool(_HUB_ID.match(target)) and not Path(target).expanduser().exists()


def checkpoint_dir(target: str, spec: str) -> Path:
    """A local folder holding config.json for `target` (a folder, or a hub id)."""
    path = Path(target).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise BackendUnavailable(f"model spec {spec!r}: {path} is not a transformers checkpoint (no config.json)")
        return path
    if not is_hub_id(target):
        raise BackendUnavailable(f"model spec {spec!r}: checkpoint folder {path} does not exist")
    return _from_hub(target, spec)


def _from_hub(repo_id: str, spec: str) -> Path:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    offline = constants.HF_HUB_OFFLINE
    try:
        folder = snapshot_download(repo_id, local_files_only=offline)
    except LocalEntryNotFoundError:
        where = "HF_HUB_OFFLINE is set" if offline else "the hub could not be reached"
        raise BackendUnavailable(
            f"model spec {spec!r}: {repo_id} is not in the Hugging Face cache ({constants.HF_HUB_CACHE}) and "
            f"{where}; download it where there is network (huggingface-cli download {repo_id}) or give a folder"
        ) from None
    except (HfHubHTTPError, OSError, ValueError) as exc:
        raise BackendUnavailable(f"model spec {spec!r}: could not get {repo_id} from the hub: {exc}") from None
    path = Path(folder)
    if not (path / "config.json").is_file():
        raise BackendUnavailable(f"model spec {spec!r}: {repo_id} has no config.json; not a transformers model")
    return path
