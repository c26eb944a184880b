"""curate: reasoning-trace datasets in, clean and decontaminated verl-ready SFT sets out."""

__version__ = "0.1.0"
