"""`curate bench`: how fast curate builds the 45K recipe, against what a user would write without it.

- `corpus`: OpenR1-shaped corpora of any size from the offline generator, cached;
- `monitor`: wall, CPU and peak memory of a command's whole process tree;
- `runs`: `curate run` end to end, and each filter alone, in fresh processes;
- `baseline`: the straightforward baseline (datasets, datasketch, math-verify, the HF tokenizer);
- `components`: MinHash vs rensa, token counting vs tiktoken, the verifier pool vs math-verify;
- `report`: the targets and bench.md; `suite`: all of it in order; `child`: work run in a fresh process.

The package imports nothing itself: `python -m curate.bench.child` should start as light as it can.
"""
