"""Fluctuating and unreliable channels (SPEC-CHANNELS): processes and experts."""

from gym_mecoffload.channels.processes import (
    CHANNELS,
    Channel,
    ChannelModel,
    IIDChannel,
    MarkovChannel,
    RayleighChannel,
    StaticChannel,
    as_channel,
)

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelModel",
    "IIDChannel",
    "MarkovChannel",
    "RayleighChannel",
    "StaticChannel",
    "as_channel",
]
