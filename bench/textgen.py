"""The W3 input: a text of seeded pseudo-random words, generated once and cached.

The vocabulary (made-up lower-case words of 2 to 12 letters) and the word frequencies (Zipf-like, as in natural
text) both come from ``random.Random(seed)``, so the same seed and size give the same file byte for byte.
"""

from __future__ import annotations

import os
import random
import string
from itertools import accumulate
from pathlib import Path

VOCABULARY = 50_000
WORDS_PER_LINE = 12
ZIPF_EXPONENT = 1.07


def text_path(data_dir: Path, megabytes: float, seed: int) -> Path:
    """Where the text of that size and seed lives (generated on first use)."""
    label = f"{megabytes:g}".replace(".", "_")
    path = data_dir / f"words-{label}mb-seed{seed}.txt"
    if not path.exists():
        generate(path, int(megabytes * 1024 * 1024), seed)
    return path


def generate(path: Path, size: int, seed: int) -> None:
    """Writes at least ``size`` bytes of text (whole lines) to ``path``, atomically."""
    rng = random.Random(seed)
    vocabulary = sorted({"".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 12)))
                         for _ in range(VOCABULARY)})
    rng.shuffle(vocabulary)
    cum_weights = list(accumulate(1.0 / (rank ** ZIPF_EXPONENT) for rank in range(1, len(vocabulary) + 1)))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".partial-{os.getpid()}")
    written = 0
    with open(partial, "w", encoding="ascii", newline="\n") as out:
        while written < size:
            words = rng.choices(vocabulary, cum_weights=cum_weights, k=WORDS_PER_LINE * 2000)
            block = "\n".join(" ".join(words[i:i + WORDS_PER_LINE])
                              for i in range(0, len(words), WORDS_PER_LINE)) + "\n"
            out.write(block)
            written += len(block)
    os.replace(partial, path)
