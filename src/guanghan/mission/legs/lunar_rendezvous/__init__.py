"""Lunar-rendezvous leg: ground-planned phasing, autonomous close-range approach and capture,
sample transfer, undocking and the ascender's disposal."""

from guanghan.mission.leg import register
from guanghan.mission.legs.lunar_rendezvous.config import LunarRendezvousConfig
from guanghan.mission.legs.lunar_rendezvous.flight import fly

LEG = register("lunar_rendezvous", LunarRendezvousConfig, fly)
