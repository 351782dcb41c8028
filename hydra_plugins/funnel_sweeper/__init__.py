"""Hydra's basic sweeper with a faster pre-launch check of the batch (see ``funnel_sweeper``)."""
