#!/usr/bin/env python3
"""Builds corpus.txt (about 200 KB) from the public-domain passages in texts/, deterministically,
and expected-wordcount.txt: what Apache Beam's Python WordCount gives for it
(re.findall(r"[\w']+", line), case-sensitive), one `word: count` line per word, sorted by code
point (= UTF-8 byte order, the order of Trireme's output shards). Run it again after editing
texts/; it needs nothing but python3."""
import collections, os, random, re

here = os.path.dirname(os.path.abspath(__file__))
names = sorted(n for n in os.listdir(os.path.join(here, "texts")) if n.endswith(".txt"))
paragraphs = []
for n in names:
    raw = open(os.path.join(here, "texts", n), encoding="utf-8", newline="").read()
    for p in re.split(r"\r?\n\r?\n", raw):
        if p.strip():
            paragraphs.append(p if p.endswith("\n") else p + ("\r\n" if "\r\n" in p else "\n"))

rng = random.Random(2026)
out, size = [], 0
while size < 200_000:
    p = rng.choice(paragraphs)
    out.append(p + "\n")
    size += len((p + "\n").encode("utf-8"))
text = "".join(out)
with open(os.path.join(here, "corpus.txt"), "w", encoding="utf-8", newline="") as f:
    f.write(text)

counts = collections.Counter()
with open(os.path.join(here, "corpus.txt"), encoding="utf-8", newline="") as f:
    for line in f:
        counts.update(re.findall(r"[\w']+", line))
with open(os.path.join(here, "expected-wordcount.txt"), "w", encoding="utf-8", newline="") as f:
    for w in sorted(counts):
        f.write(f"{w}: {counts[w]}\n")
print(f"corpus.txt: {len(text.encode('utf-8'))} bytes, {len(counts)} distinct words")
