"""The meter fleet simulator: the outside world (meters, households, payers) for tests and demos.

It imports only `prepaidgrid.domain`: like a real meter, it knows the protocol and nothing
of the platform behind the broker.
"""

from prepaidgrid.simulator.fleet import Fleet, FleetStats, SimulatedClock, StepHook
from prepaidgrid.simulator.gateway_links import BrokerAddress, InMemoryNetwork, mqtt_links
from prepaidgrid.simulator.load_profiles import CoolingTier, HouseholdProfile, household_blocks
from prepaidgrid.simulator.meters import MeterSpec, Replacement, SimulatedMeter
from prepaidgrid.simulator.recharge_habits import Recharge, RechargeHabit, decide_recharge
from prepaidgrid.simulator.scenario import (
    SCENARIO_NAMES,
    Consumer,
    Division,
    Scenario,
    UnknownScenario,
    load_scenario,
)

__all__ = [
    "SCENARIO_NAMES",
    "BrokerAddress",
    "Consumer",
    "CoolingTier",
    "Division",
    "Fleet",
    "FleetStats",
    "HouseholdProfile",
    "InMemoryNetwork",
    "MeterSpec",
    "Recharge",
    "RechargeHabit",
    "Replacement",
    "Scenario",
    "SimulatedClock",
    "SimulatedMeter",
    "StepHook",
    "UnknownScenario",
    "decide_recharge",
    "household_blocks",
    "load_scenario",
    "mqtt_links",
]
