"""Assemble README.md from docs/readme/*.md (each part's section, kept beside its docs).

    python scripts/assemble-readme.py

The intro comes first, then the parts in the order a reader meets them.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARTS = [
    "_intro.md",
    "serve.md",
    "analyzer.md",
    "diff.md",
    "registry.md",
    "transform.md",
    "pipeline.md",
    "webhooks.md",
    "security.md",
    "soak.md",
    "_development.md",
]


def main() -> None:
    sections = []
    for name in PARTS:
        text = (ROOT / "docs" / "readme" / name).read_text(encoding="utf-8").strip()
        sections.append(text)
    # links in the sections are written relative to the repository root
    (ROOT / "README.md").write_text("\n\n".join(sections) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
