"""The YAML front-matter the Hugging Face Hub reads from a dataset's README.md (license, languages,
task categories, configs), shared by the EmpTest dataset and the simulation export's card."""

from __future__ import annotations

import yaml


def front_matter(*, pretty_name: str, languages: list[str], task_categories: list[str], tags: list[str],
                 size: int, configs: list[dict], license: str = "apache-2.0") -> str:  # fmt: skip
    """`configs`: [{"config_name": ..., "data_files": [{"split": ..., "path": ...}]}, ...]."""
    meta = {
        "pretty_name": pretty_name,
        "license": license,
        "language": sorted(set(languages)),
        "task_categories": task_categories,
        "tags": tags,
        "size_categories": [_size_category(size)],
        "configs": configs,
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n"


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"
