"""`curate eval`: sample rollouts on math benchmarks and score them with the model card's T0 protocol.

Generation (`runner`, `backends`, `rollouts`) and judging (`scoring`, `metrics`, `report`) are separate, so a
rollouts file from any source can be scored the same way.
"""
