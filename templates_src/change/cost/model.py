"""What a table costs a month under a traffic profile, and where it runs hot.

Inputs: the data template (what is deployed: indexes, table class, PITR,
backups, keys), the design's access patterns and the environment's traffic
profile. The plan prices the template before and after a change with the same
patterns and traffic, so the difference is the change's own.

Prices come from the dated price book (prices.py); request units from
units.py. Rules besides those:

- Storage is billed per GB-month for the table and for each GSI, plus 100
  bytes per item of index overhead (included in a stated index size)
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
  An index whose size the profile does not state is estimated from the
  design's sample items: the share of items that carry its keys and the
  share of their bytes it projects (item_size.py); without samples, as large
  as the table (an upper bound).
- Point-in-time recovery is billed per GB-month of table size; AWS Backup's
  DynamoDB backups are full copies, so a daily plan kept 35 days stores 35
  copies (https://aws.amazon.com/dynamodb/pricing/on-demand/, "Backup and restore").
- Stream reads by AWS Lambda triggers are free; other consumers' GetRecords
  are stream read request units.
- A customer managed KMS key costs a flat monthly fee (its requests are not
  priced: DynamoDB caches the table key).
- Provisioned capacity is billed per unit-hour; it is cheaper than on-demand
  once its average utilisation passes the break-even ratio of the two prices.
- A global table (AWS::DynamoDB::GlobalTable) is billed in every replica
  Region: each write, GSI writes included, is applied again in every other
  replica as replicated write units (rWRU on-demand, rWCU provisioned), which
  cost the same as that Region's write units since the 2024-11-01 cut
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html;
  the book's global_tables entry). Storage (table and GSIs), point-in-time
  recovery and the table class are each replica's own; so is a replica's
  minimum read capacity (provisioned). The profile's reads are priced in the
  home Region (where the stack is). A replica's multi-Region KMS key is a key
  of its own (KMS pricing applies to each primary and replica key). Every
  replica Region must be in the price book, or nothing is priced.
  Multi-Region strong consistency is priced like eventual (no documented
  difference); a witness Region, cross-Region data transfer and the one-off
  charge for adding a replica are named in the notes, not priced.
- The free tier is not subtracted; contributor insights, alarms and data
  transfer are not priced.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from ...spec import limits
from ...spec.design import Design
from ...spec.operations import TRANSACT_OPERATIONS
from ...spec.traffic import HOURS_PER_MONTH, SECONDS_PER_MONTH, Traffic
from ...stacks.names import GLOBAL_TABLE_TYPE, KMS_KEY_TYPE, TABLE_TYPES
from ..table_shape import props
from .item_size import index_share
from .prices import ClassPrices, Prices, global_table_rule
from .units import Gsi, RequestUnits, pattern_units, write_units

MILLION = 1_000_000
INDEX_ITEM_OVERHEAD_BYTES = 100
GB = 1_000_000_000
# Provisioned comparison: DynamoDB auto scaling's default target.
DEFAULT_TARGET_UTILIZATION = 70
MIN_PROVISIONED_UNITS = 1
DEFAULT_TABLE_CLASS = "STANDARD"


@dataclass(frozen=True)
class Line:
    """One priced line: a pattern's requests or a storage item."""

    kind: Literal["requests", "storage", "other"]
    name: str
    detail: str
    quantity: float  # requests or GB per month
    units_per_request: float | None
    units_per_month: float | None
    unit: str  # RRU, WRU, GB-month, key-month
    usd: float
    # What to state in the profile to replace an estimate (an index's size), or "".
    estimated: str = ""


@dataclass(frozen=True)
class Capacity:
    read_units_per_second: float  # average
    write_units_per_second: float
    peak_read_units_per_second: float
    peak_write_units_per_second: float
    on_demand_usd: float
    provisioned_average_usd: float  # auto scaled around the average at the target
    provisioned_peak_usd: float  # the peak provisioned all month
    target_utilization: int
    break_even_utilization: float  # provisioned pays above this average utilisation


@dataclass(frozen=True)
class Estimate:
    region: str
    table_class: str
    billing_mode: str
    lines: list[Line]
    capacity: Capacity | None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    prices: Prices | None = None
    # A global table: the other replicas' Regions (the home Region is `region`) and an MRSC witness.
    replicas: list[str] = field(default_factory=list)
    witness: str | None = None

    @property
    def monthly_usd(self) -> float:
        return sum(line.usd for line in self.lines)


class UnpricedRegions(ValueError):
    """A global table replicates to Regions the price book lacks: pricing only some would understate."""

    def __init__(self, regions: list[str]) -> None:
        super().__init__(f"no prices for {', '.join(regions)}")
        self.regions = regions


def table_resource(template: dict[str, Any]) -> dict[str, Any] | None:
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") in TABLE_TYPES:
            found: dict[str, Any] = resource
            return found
    return None


def _resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template.get("Resources", {}).values() if r.get("Type") == kind]


def _is_global(table: dict[str, Any]) -> bool:
    return table.get("Type") == GLOBAL_TABLE_TYPE


def replica_regions(template: dict[str, Any]) -> list[str]:
    """A global table's replica Regions in template order (the stack's first); [] for a single-Region table."""
    table = table_resource(template)
    if table is None or not _is_global(table):
        return []
    return [str(r["Region"]) for r in props(table).get("Replicas", []) if isinstance(r.get("Region"), str)]


def _witness(table: dict[str, Any]) -> str | None:
    witnesses = props(table).get("GlobalTableWitnesses") or []
    return str(witnesses[0]["Region"]) if witnesses else None


def _replica(table: dict[str, Any], region: str) -> dict[str, Any]:
    """A single-Region table's own properties, or the global table's replica in the Region."""
    if not _is_global(table):
        return props(table)
    replicas = props(table).get("Replicas", [])
    found: dict[str, Any] = next((r for r in replicas if r.get("Region") == region), replicas[0] if replicas else {})
    return found


def _auto_scaling(settings: dict[str, Any] | None, key: str) -> Scaling | None:
    """A GlobalTable Read/WriteProvisionedThroughputSettings' auto scaling (its maximum and target)."""
    scaling = (settings or {}).get(key) or {}
    if not scaling:
        return None
    config = scaling.get("TargetTrackingScalingPolicyConfiguration") or {}
    return Scaling(int(scaling.get("MaxCapacity", 0)), float(config.get("TargetValue", DEFAULT_TARGET_UTILIZATION)))


def _global_settings(table: dict[str, Any], replica: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(table or GSI name, settings) of a global table: write settings are global, read settings the replica's."""
    key = "WriteProvisionedThroughputSettings" if kind == "write" else "ReadProvisionedThroughputSettings"
    source = props(table) if kind == "write" else replica
    out = [("table", source.get(key) or {})]
    out += [(i["IndexName"], i.get(key) or {}) for i in source.get("GlobalSecondaryIndexes", [])]
    return out


@dataclass(frozen=True)
class Scaling:
    """Auto scaling of one capacity dimension, as the template configures it."""

    maximum: int
    target_utilization: float


def _scaling(template: dict[str, Any], replica: dict[str, Any] | None = None) -> dict[str, Scaling]:
    """ScalableDimension ("dynamodb:table:WriteCapacityUnits", or ...:index:... + index name) -> its scaling.

    A global table's scaling is in the table (writes) and its replica (reads), not in auto scaling resources.
    """
    table = table_resource(template)
    if table is not None and _is_global(table):
        found = {}
        for kind, key in (("read", "ReadCapacityAutoScalingSettings"), ("write", "WriteCapacityAutoScalingSettings")):
            for where, settings in _global_settings(table, replica or {}, kind):
                scaling = _auto_scaling(settings, key)
                if scaling is not None:
                    found[_dimension(kind, where)] = scaling
        return found
    resources = template.get("Resources", {})
    targets: dict[str, float] = {}
    for r in resources.values():
        if r.get("Type") == "AWS::ApplicationAutoScaling::ScalingPolicy":
            ref = props(r).get("ScalingTargetId", {}).get("Ref")
            config = props(r).get("TargetTrackingScalingPolicyConfiguration") or {}
            if ref and "TargetValue" in config:
                targets[ref] = float(config["TargetValue"])
    out = {}
    for logical_id, r in resources.items():
        if r.get("Type") == "AWS::ApplicationAutoScaling::ScalableTarget":
            p = props(r)
            resource_id = p.get("ResourceId", {})
            path = resource_id.get("Fn::Sub", "") if isinstance(resource_id, dict) else str(resource_id)
            index = path.split("/index/")[1] if "/index/" in path else ""
            key = p.get("ScalableDimension", "") + (f"/{index}" if index else "")
            out[key] = Scaling(int(p.get("MaxCapacity", 0)), targets.get(logical_id, DEFAULT_TARGET_UTILIZATION))
    return out


def _dimension(kind: str, where: str) -> str:
    side = "Read" if kind == "read" else "Write"
    return f"dynamodb:table:{side}CapacityUnits" if where == "table" else f"dynamodb:index:{side}CapacityUnits/{where}"


def _usd(units: Fraction | float, per_million: float) -> float:
    return float(units) * per_million / MILLION


def _describe(op: str, traffic_items: Fraction, kb: float, units: RequestUnits, consistent: bool) -> str:
    parts = [op]
    if traffic_items != 1:
        parts.append(f"{float(traffic_items):g} items")
    parts.append(f"{kb:g} KB")
    if units.kind == "read" and op not in TRANSACT_OPERATIONS:  # a transaction reads strongly consistent
        parts.append("strongly consistent" if consistent else "eventually consistent")
    for name, index_units in sorted(units.index.items()):
        parts.append(f"{float(index_units):g} WRU on {name}")
    return ", ".join(parts)


def _pattern_units(design: Design, gsis: list[Gsi], traffic: Traffic) -> tuple[dict[str, RequestUnits], list[str]]:
    units_of, notes = {}, []
    for pattern in design.access_patterns:
        t = traffic.patterns.get(pattern.name)
        if t is None:
            continue
        units_of[pattern.name] = units = pattern_units(design, gsis, pattern, t)
        if units.assumed:
            notes.append(f"{pattern.name}: {units.assumed}")
    unpriced = [p.name for p in design.access_patterns if p.name not in traffic.patterns]
    if unpriced:
        notes.append(f"no traffic stated for {', '.join(unpriced)}: not priced")
    return units_of, notes


def unit_price_per_million(
    cls: ClassPrices, kind: str, billing: str, target: float = DEFAULT_TARGET_UTILIZATION
) -> float:
    """What a million request units cost: on-demand, or as provisioned capacity auto scaled at the target (%)."""
    if billing == "PAY_PER_REQUEST":
        return cls.read_request_units_per_million if kind == "read" else cls.write_request_units_per_million
    hourly = cls.read_capacity_unit_hour if kind == "read" else cls.write_capacity_unit_hour
    # One unit-hour serves 3,600 units when fully used; auto scaling keeps it at the target.
    return hourly * MILLION / (3600 * target / 100)


def _request_lines(
    design: Design,
    units_of: dict[str, RequestUnits],
    traffic: Traffic,
    cls: ClassPrices,
    billing: str,
    targets: dict[str, float],
) -> list[Line]:
    lines = []
    for pattern in design.access_patterns:
        units = units_of.get(pattern.name)
        if units is None:
            continue
        t = traffic.patterns[pattern.name]
        monthly = units.total * t.per_month
        lines.append(
            Line(
                "requests",
                pattern.name,
                _describe(pattern.operation, units.items, t.item_kb, units, t.consistent_read),
                t.per_month,
                float(units.total),
                float(monthly),
                "RRU" if units.kind == "read" else "WRU",
                _usd(monthly, unit_price_per_million(cls, units.kind, billing, targets[units.kind])),
            )
        )
    return lines


def _minimum_capacity(table: dict[str, Any], replica: dict[str, Any]) -> dict[str, int]:
    """Minimum provisioned read and write units, table and GSIs together (a global table: in the replica)."""
    minimum = {"read": 0, "write": 0}
    if _is_global(table):
        for kind, key in (("read", "ReadCapacityAutoScalingSettings"), ("write", "WriteCapacityAutoScalingSettings")):
            for _, settings in _global_settings(table, replica, kind):
                minimum[kind] += int(((settings or {}).get(key) or {}).get("MinCapacity", 0))
        return minimum
    for throughput in [props(table).get("ProvisionedThroughput")] + [
        i.get("ProvisionedThroughput") for i in props(table).get("GlobalSecondaryIndexes", [])
    ]:
        if isinstance(throughput, dict):
            minimum["read"] += int(throughput.get("ReadCapacityUnits", 0))
            minimum["write"] += int(throughput.get("WriteCapacityUnits", 0))
    return minimum


def _provisioned_floor(minimum: dict[str, int], lines: list[Line], cls: ClassPrices, region: str = "") -> list[Line]:
    """Provisioned tables pay for their minimum capacity (table and GSIs) even when traffic is lower."""
    out = []
    suffix = f" ({region})" if region else ""
    for kind, units, hourly in (
        ("read", ("RRU",), cls.read_capacity_unit_hour),
        ("write", ("WRU", "rWCU"), cls.write_capacity_unit_hour),
    ):
        floor = minimum[kind] * hourly * HOURS_PER_MONTH
        used = sum(line.usd for line in lines if line.unit in units)
        if floor > used:
            idle = (floor - used) / (hourly * HOURS_PER_MONTH)
            out.append(
                Line(
                    "other",
                    f"idle {kind} capacity{suffix}",
                    f"minimum {minimum[kind]} units (table and GSIs together), {idle:.3g} unused",
                    idle,
                    None,
                    None,
                    "unit-month",
                    floor - used,
                )
            )
    return out


def _backups(template: dict[str, Any]) -> list[tuple[str, int, bool]]:
    """(rule name, copies kept, schedule understood) per backup rule; copies to another vault count twice."""
    out = []
    for plan in _resources(template, "AWS::Backup::BackupPlan"):
        for rule in props(plan).get("BackupPlan", {}).get("BackupPlanRule", []):
            days = (rule.get("Lifecycle") or {}).get("DeleteAfterDays", 0)
            per_day, understood = _runs_per_day(rule.get("ScheduleExpression", ""))
            copies = math.ceil(days * per_day) * (1 + len(rule.get("CopyActions", [])))
            out.append((rule.get("RuleName", "backup"), copies, understood))
    return out


_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_PER_DAY = {"minute": 1440, "hour": 24, "day": 1}


def _runs_per_day(schedule: str) -> tuple[float, bool]:
    """Backups per day of a schedule; (1, False) when not understood (assumed daily)."""
    rate = _RATE.match(schedule)
    if rate:
        return _PER_DAY[rate.group(2)] / int(rate.group(1)), True
    cron = re.match(r"^cron\((.+)\)$", schedule)
    fields = cron.group(1).split() if cron else []
    if len(fields) == 6:
        minute, hour, day, month, weekday, _ = fields
        every_day = day in ("*", "?") and weekday in ("*", "?") and month == "*"
        if every_day and minute.isdigit() and re.fullmatch(r"\d+(,\d+)*", hour):
            return len(hour.split(",")), True
        if every_day is False and day in ("*", "?") and month == "*" and re.fullmatch(r"[A-Z0-9,]+", weekday):
            return len(weekday.split(",")) / 7, True
    return 1, False


def _storage_lines(
    template: dict[str, Any],
    table: dict[str, Any],
    replica: dict[str, Any],
    design: Design,
    gsis: list[Gsi],
    traffic: Traffic,
    prices: Prices,
    cls: ClassPrices,
) -> tuple[list[Line], list[str]]:
    notes = []
    gb = traffic.table_gb
    lines = [Line("storage", "table", "base table data", gb, None, None, "GB-month", gb * cls.storage_gb_month)]
    table_keys = frozenset(k.name for k in design.table_key())
    for gsi in gsis:
        stated = traffic.index_gb.get(gsi.name)  # as DynamoDB reports it: overhead included
        estimated = ""
        if stated is not None:
            size, detail = stated, f"{gsi.projection} projection"
        else:
            share = index_share(design.sample_items, table_keys, gsi)
            source = "sample items" if share else "the table"
            estimated = f"size estimated from {source}: state traffic.index_gb.{gsi.name}"
            items_share, bytes_share = share or (Fraction(1), Fraction(1))
            overhead = (traffic.table_items or 0) * items_share * INDEX_ITEM_OVERHEAD_BYTES / GB
            size = float(Fraction(str(gb)) * bytes_share + overhead)
            basis = "the design's sample items" if share else "no sample items: as large as the table"
            detail = f"{gsi.projection} projection, {float(bytes_share):.0%} of the table ({basis})"
            notes.append(f"GSI {gsi.name}: size estimated from {basis}; state traffic.index_gb.{gsi.name} to price it")
        lines.append(
            Line(
                "storage",
                f"GSI {gsi.name}",
                detail,
                size,
                None,
                None,
                "GB-month",
                size * cls.storage_gb_month,
                estimated,
            )
        )
    lines += _pitr_lines(replica, gb, prices)
    for name, copies, understood in _backups(template):
        if not understood:
            notes.append(f"backup rule {name}: schedule not understood; priced as daily")
        size = gb * copies
        lines.append(
            Line(
                "storage",
                f"backups ({name})",
                f"{copies} full copies kept",
                size,
                None,
                None,
                "GB-month",
                size * prices.backup_gb_month,
            )
        )
    keys = _resources(template, KMS_KEY_TYPE)
    if keys:
        lines.append(
            Line(
                "other",
                "KMS keys",
                "customer managed, monthly fee",
                len(keys),
                None,
                None,
                "key-month",
                len(keys) * prices.kms_key_month,
            )
        )
    if props(table).get("StreamSpecification") and traffic.stream_reads_per_month:
        reads = traffic.stream_reads_per_month
        lines.append(
            Line(
                "requests",
                "stream reads",
                "GetRecords by non-Lambda consumers",
                reads,
                1,
                reads,
                "stream RRU",
                _usd(reads, prices.stream_read_request_units_per_million),
            )
        )
    return lines, notes


def _pitr_lines(replica: dict[str, Any], gb: float, prices: Prices, region: str = "") -> list[Line]:
    pitr = replica.get("PointInTimeRecoverySpecification") or {}
    if pitr.get("PointInTimeRecoveryEnabled") is not True:
        return []
    days = pitr.get("RecoveryPeriodInDays", limits.PITR_RECOVERY_PERIOD_MAX_DAYS)
    name = f"point-in-time recovery ({region})" if region else "point-in-time recovery"
    return [Line("storage", name, f"{days}-day window", gb, None, None, "GB-month", gb * prices.pitr_gb_month)]


def _replicated_writes(units_of: dict[str, RequestUnits], traffic: Traffic) -> tuple[int, Fraction, Fraction]:
    """(write requests, table write units, GSI write units) a month: what every other replica applies again."""
    requests, table, index = 0, Fraction(0), Fraction(0)
    for name, units in units_of.items():
        if units.kind == "write":
            t = traffic.patterns[name]
            requests += t.per_month
            table += units.table * t.per_month
            index += sum(units.index.values(), Fraction(0)) * t.per_month
    return requests, table, index


def _replicated_kb(units_of: dict[str, RequestUnits], traffic: Traffic) -> Fraction:
    """KB of items written a month: what replication sends to each other Region."""
    return sum(
        (
            units.items * Fraction(str(traffic.patterns[name].item_kb)) * traffic.patterns[name].per_month
            for name, units in units_of.items()
            if units.kind == "write"
        ),
        Fraction(0),
    )


def _count(units: Fraction) -> str:
    return f"{float(units):,.0f}" if units >= 1000 else f"{float(units):.4g}"


def _replica_lines(
    table: dict[str, Any],
    region: str,
    prices: Prices,
    billing: str,
    write_target: float,
    writes: tuple[int, Fraction, Fraction],
    home_storage: list[Line],
) -> list[Line]:
    """What one other replica costs: replicated writes, its idle capacity, storage, PITR and its replica key."""
    replica = _replica(table, region)
    table_class = replica.get("TableClass", DEFAULT_TABLE_CLASS)
    cls = prices.table_classes[table_class]
    requests, table_units, index_units = writes
    total = table_units + index_units
    unit = "rWRU" if billing == "PAY_PER_REQUEST" else "rWCU"
    detail = f"every write applied again: {_count(table_units)} table + {_count(index_units)} GSI units"
    lines = []
    if total:
        lines.append(
            Line(
                "requests",
                f"replicated writes ({region})",
                detail,
                requests,
                float(total / requests) if requests else None,
                float(total),
                unit,
                _usd(total, unit_price_per_million(cls, "write", billing, write_target)),
            )
        )
    if billing != "PAY_PER_REQUEST":
        lines += _provisioned_floor(_minimum_capacity(table, replica), lines, cls, region)
    gb = 0.0
    for line in home_storage:
        if line.name == "table" or line.name.startswith("GSI "):
            gb = line.quantity if line.name == "table" else gb
            lines.append(
                dataclasses.replace(
                    line,
                    name=f"{line.name} ({region})",
                    detail=f"{line.detail}, {table_class}",
                    usd=line.quantity * cls.storage_gb_month,
                )
            )
    lines += _pitr_lines(replica, gb, prices, region)
    if (replica.get("SSESpecification") or {}).get("KMSMasterKeyId") is not None:
        lines.append(
            Line(
                "other",
                f"KMS key ({region})",
                "multi-Region replica key",
                1,
                None,
                None,
                "key-month",
                prices.kms_key_month,
            )
        )
    return lines


def _transactional_writes(traffic: Traffic, units_of: dict[str, RequestUnits]) -> set[str]:
    """Write patterns whose table units are doubled as transactions (more table units than item writes)."""
    return {
        name
        for name, units in units_of.items()
        if units.kind == "write" and units.table > units.items * write_units(traffic.patterns[name].item_kb)
    }


def _global_notes(
    table: dict[str, Any], home: str, others: list[str], units_of: dict[str, RequestUnits], traffic: Traffic
) -> list[str]:
    rule = global_table_rule()
    gb = float(_replicated_kb(units_of, traffic)) / 1_000_000
    notes = [
        f"global table: every write, GSI writes included, is billed again in {', '.join(others)} as replicated write "
        f"units at that Region's write price ({rule.source}, read {rule.retrieved})",
        f"reads: all of the profile's reads are priced in the home Region {home}; a read served by another replica "
        "costs that Region's read price instead",
        f"not priced: cross-Region data transfer (about {gb:,.3g} GB of items a month to each other Region); "
        "adding a replica to a table that holds data (billed once, like a restore)",
    ]
    transactional = [name for name in units_of if name in _transactional_writes(traffic, units_of)]
    if transactional:
        notes.append(
            f"replicated transactional writes ({', '.join(transactional)}) are counted at the transactional rate in "
            "every replica: an upper bound (no documentation found on whether a replica bills them as standard writes)"
        )
    if props(table).get("MultiRegionConsistency") == "STRONG":
        notes.append("multi-Region strong consistency: priced like eventual consistency (no documented difference)")
    witness = _witness(table)
    if witness is not None:
        notes.append(f"witness {witness}: stores replicated change data; not priced (no published price found)")
    return notes


def _capacity(
    units_of: dict[str, RequestUnits], traffic: Traffic, cls: ClassPrices, on_demand: float, target_percent: float
) -> Capacity:
    average = {"read": Fraction(0), "write": Fraction(0)}
    peak = {"read": Fraction(0), "write": Fraction(0)}
    for name, units in units_of.items():
        t = traffic.patterns[name]
        rate = Fraction(t.per_month, SECONDS_PER_MONTH)
        average[units.kind] += rate * units.total
        peak[units.kind] += (Fraction(str(t.peak_per_second)) if t.peak_per_second else rate) * units.total
    target = Fraction(str(target_percent)) / 100

    def provisioned(reads: Fraction, writes: Fraction) -> float:
        r = max(Fraction(MIN_PROVISIONED_UNITS), reads / target)
        w = max(Fraction(MIN_PROVISIONED_UNITS), writes / target)
        return float(
            (r * Fraction(str(cls.read_capacity_unit_hour)) + w * Fraction(str(cls.write_capacity_unit_hour)))
            * HOURS_PER_MONTH
        )

    # One unit-hour of capacity fully used serves 3,600 request units.
    break_even = cls.write_capacity_unit_hour / (cls.write_request_units_per_million / MILLION * 3600)
    return Capacity(
        float(average["read"]),
        float(average["write"]),
        float(peak["read"]),
        float(peak["write"]),
        on_demand,
        provisioned(average["read"], average["write"]),
        provisioned(peak["read"], peak["write"]),
        round(target_percent),
        break_even,
    )


def _peak_loads(
    design: Design, units_of: dict[str, RequestUnits], traffic: Traffic, hot_key: bool
) -> dict[tuple[str, str], Fraction]:
    """(read|write, "table" or a GSI) -> units per second at the stated peak (the monthly rate without one).

    hot_key: only the busiest key's share (patterns with hot_key_share), for the per-partition limits.
    """
    loads: dict[tuple[str, str], Fraction] = {}
    patterns = {p.name: p for p in design.access_patterns}
    for name, units in units_of.items():
        t = traffic.patterns[name]
        if hot_key and t.hot_key_share is None:
            continue
        rate = Fraction(str(t.peak_per_second)) if t.peak_per_second else Fraction(t.per_month, SECONDS_PER_MONTH)
        if hot_key:
            rate *= Fraction(str(t.hot_key_share))
        if units.kind == "read":
            key = ("read", patterns[name].index or "table")
            loads[key] = loads.get(key, Fraction(0)) + rate * units.table
        else:
            loads[("write", "table")] = loads.get(("write", "table"), Fraction(0)) + rate * units.table
            for index, index_units in units.index.items():
                loads[("write", index)] = loads.get(("write", index), Fraction(0)) + rate * index_units
    return loads


def per_second(rate: Fraction | float) -> str:
    """A rate without scientific notation: 0.00171, 12.5, 1,200."""
    value = float(rate)
    return f"{value:,.0f}" if value >= 1000 else f"{value:,.1f}" if value >= 10 else f"{value:.3g}"


def _where(where: str) -> str:
    return "the table" if where == "table" else f"GSI {where}"


def _hot_partitions(design: Design, units_of: dict[str, RequestUnits], traffic: Traffic) -> list[str]:
    """Partitions past DynamoDB's per-partition throughput at the stated peak (hot_key_share set)."""
    most = {"read": limits.PARTITION_READ_UNITS_PER_SECOND_MAX, "write": limits.PARTITION_WRITE_UNITS_PER_SECOND_MAX}
    return [
        f"hot partition: the busiest key of {_where(where)} takes {per_second(load)} {kind} units/s at peak; "
        f"one partition serves at most {most[kind]:,} (spread the key, e.g. write sharding)"
        for (kind, where), load in sorted(_peak_loads(design, units_of, traffic, hot_key=True).items())
        if load > most[kind]
    ]


def _on_demand_caps(table: dict[str, Any], replica: dict[str, Any] | None = None) -> dict[str, int]:
    """Dimension (as _dimension names it) -> the OnDemandThroughput cap of the table or a GSI.

    A global table's write caps are the table's, its read caps the replica's.
    """
    caps: dict[str, int] = {}
    if _is_global(table):
        for kind, key, field_ in (
            ("read", "ReadOnDemandThroughputSettings", "MaxReadRequestUnits"),
            ("write", "WriteOnDemandThroughputSettings", "MaxWriteRequestUnits"),
        ):
            source = props(table) if kind == "write" else (replica or {})
            found = [("table", source.get(key))]
            found += [(i["IndexName"], i.get(key)) for i in source.get("GlobalSecondaryIndexes", [])]
            for where, settings in found:
                if settings and field_ in settings:
                    caps[_dimension(kind, where)] = int(settings[field_])
        return caps
    sources = [("table", props(table).get("OnDemandThroughput"))]
    sources += [(i["IndexName"], i.get("OnDemandThroughput")) for i in props(table).get("GlobalSecondaryIndexes", [])]
    for where, cap in sources:
        for kind, key in (("read", "MaxReadRequestUnits"), ("write", "MaxWriteRequestUnits")):
            if cap and key in cap:
                caps[_dimension(kind, where)] = int(cap[key])
    return caps


def _throttled_at_peak(
    design: Design,
    units_of: dict[str, RequestUnits],
    traffic: Traffic,
    scaling: dict[str, Scaling],
    caps: dict[str, int],
) -> list[str]:
    """An auto scaling maximum or an on-demand cap below the stated peak: those requests would be throttled."""
    out = []
    for (kind, where), load in sorted(_peak_loads(design, units_of, traffic, hot_key=False).items()):
        found = scaling.get(_dimension(kind, where))
        cap = caps.get(_dimension(kind, where))
        need = f"capacity: {_where(where)} needs {per_second(load)} {kind} units/s at the stated peak, above its"
        if found is not None and load > found.maximum:
            out.append(
                f"{need} auto scaling maximum of {found.maximum:,}: requests beyond it are throttled "
                f"(raise billing.{kind}.max)"
            )
        if cap is not None and load > cap:
            out.append(
                f"{need} on-demand cap of {cap:,}: requests beyond it are throttled (billing.max_{kind}_request_units)"
            )
    return out


def _item_size(design: Design, traffic: Traffic) -> list[str]:
    size = traffic.conversations
    if design.message_storage != "list_in_item" or size is None:
        return []
    kb = size.messages * size.message_kb
    if kb <= limits.ITEM_SIZE_MAX_KB:
        return []
    fits = math.floor(limits.ITEM_SIZE_MAX_KB / size.message_kb)
    return [
        f"item size: a conversation of {size.messages:,} messages of {size.message_kb:g} KB is {kb:,.0f} KB; "
        f"DynamoDB refuses items over {limits.ITEM_SIZE_MAX_KB} KB, so writes fail after about {fits:,} messages "
        "(store one item per message)"
    ]


def estimate(
    template: dict[str, Any],
    design: Design,
    traffic: Traffic,
    prices: Prices,
    replica_prices: Mapping[str, Prices] | None = None,
) -> Estimate:
    """The monthly estimate of the template's table under the profile (empty when it has no table).

    prices: the home Region's (the stack's); replica_prices: every other replica Region's of a global table.
    UnpricedRegions when a replica Region has none.
    """
    table = table_resource(template)
    if table is None:
        return Estimate(prices.region, "-", "-", [], None, prices=prices)
    home = _replica(table, prices.region)
    others = [r for r in replica_regions(template) if r != prices.region]
    missing = [r for r in others if r not in (replica_prices or {})]
    if missing:
        raise UnpricedRegions(missing)
    table_class = home.get("TableClass", DEFAULT_TABLE_CLASS)
    billing = props(table).get("BillingMode", "PROVISIONED")
    gsis = [Gsi.from_template(i) for i in props(table).get("GlobalSecondaryIndexes", [])]

    units_of, notes = _pattern_units(design, gsis, traffic)
    scaling = _scaling(template, home)
    targets = {
        kind: (
            found.target_utilization
            if (found := scaling.get(_dimension(kind, "table")))
            else DEFAULT_TARGET_UTILIZATION
        )
        for kind in ("read", "write")
    }
    if billing != "PAY_PER_REQUEST":
        notes.append(
            f"provisioned: requests priced as capacity auto scaled at {targets['read']:g}% (reads) and "
            f"{targets['write']:g}% (writes) utilisation, plus what the minimum capacity leaves idle"
        )

    def priced(cls: ClassPrices) -> tuple[list[Line], list[str]]:
        requests = _request_lines(design, units_of, traffic, cls, billing, targets)
        if billing != "PAY_PER_REQUEST":
            requests += _provisioned_floor(_minimum_capacity(table, home), requests, cls)
        storage, storage_notes = _storage_lines(template, table, home, design, gsis, traffic, prices, cls)
        return requests + storage, storage_notes

    own = prices.table_classes[table_class]
    lines, storage_notes = priced(own)
    notes += storage_notes
    on_demand = (
        sum(
            float(u.total * traffic.patterns[name].per_month) * unit_price_per_million(own, u.kind, "PAY_PER_REQUEST")
            for name, u in units_of.items()
        )
        / MILLION
    )
    capacity = _capacity(units_of, traffic, own, on_demand, targets["write"])
    warnings = (
        _hot_partitions(design, units_of, traffic)
        + _throttled_at_peak(design, units_of, traffic, scaling, _on_demand_caps(table, home))
        + _item_size(design, traffic)
    )
    if traffic.conversations is not None and design.message_storage != "list_in_item":
        notes.append("traffic.conversations: ignored, messages are stored one item each (no item grows)")
    if not any(traffic.patterns[name].peak_per_second for name in units_of):
        notes.append("no peak_per_second stated: the peak is the monthly average")
    if props(table).get("StreamSpecification") and not traffic.stream_reads_per_month:
        notes.append("stream reads: none priced (AWS Lambda triggers read the stream free)")
    total = sum(line.usd for line in lines)
    which = f"the {prices.region} replica" if others else "this profile"
    for other in prices.table_classes:
        if other != table_class:
            other_total = sum(line.usd for line in priced(prices.table_classes[other])[0])
            if other_total < total:
                warnings.append(
                    f"table class: {other} would cost ${other_total:,.2f}/month, ${total - other_total:,.2f} less "
                    f"than {table_class} for {which}"
                )
    if _is_global(table):
        writes = _replicated_writes(units_of, traffic)
        storage = [line for line in lines if line.kind == "storage"]
        for region in others:
            assert replica_prices is not None
            lines += _replica_lines(table, region, replica_prices[region], billing, targets["write"], writes, storage)
        notes += _global_notes(table, prices.region, others, units_of, traffic)
    return Estimate(
        prices.region, table_class, billing, lines, capacity, warnings, notes, prices, others, _witness(table)
    )
