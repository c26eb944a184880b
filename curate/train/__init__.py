"""Hand-off to verl full-parameter SFT (verl 0.9.x, `verl.trainer.sft_trainer`): presets, the overrides
derived from a curated output, pre-launch checks, the ChatML training template, and launch scripts."""
