"""Validate persona and exemplar files: python scripts/validate_content.py FILE [FILE ...]"""

import sys
from pathlib import Path

from empllm.errors import EmpLLMError
from empllm.personas.loader import load_personas
from empllm.simulate.exemplars import load_exemplars

ok = True
for name in sys.argv[1:]:
    path = Path(name)
    try:
        items = load_exemplars(path) if "exemplar" in str(path) else load_personas(path)
        print(f"{path}: {len(items)} valid")
    except EmpLLMError as exc:
        ok = False
        print(f"{path}: INVALID: {exc}")
sys.exit(0 if ok else 1)
