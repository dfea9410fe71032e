"""taskcat: a disposable variant of each data stack and the .taskcat.yml that tests it.

A global table's variant keeps its replicas (the test spans their Regions)
but deletable, each on its Region's AWS managed key (replica key stacks are
not part of a test, and a global table cannot mix AWS managed and customer
managed keys).

The deployed templates keep fixed table names, Retain and deletion protection;
a test deployment must be deletable and must not collide with a real table
or an earlier run. So each environment's data template is copied with three
differences only: TableName (and the key alias) come from a TableName
parameter that taskcat fills with $[taskcat_random-string], and the table and
key are Delete with deletion protection off, and the backup vault has no
Vault Lock and no access policy. Everything else (keys, GSIs, SSE, PITR,
streams, alarms) is the environment's own.

Access stacks are not in taskcat: they import the data stack's exports by
the data stack's name, and taskcat names its stacks itself.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml
from troposphere import dynamodb

from ..spec.loader import MANAGED_BY, Spec
from .artifacts import BUILD_DIR, render_json, template_file
from .names import (
    BACKUP_KEY_ID,
    BACKUP_PLAN_ID,
    BACKUP_VAULT_ID,
    DATA,
    GLOBAL_KEY_ID,
    KEY_ALIAS_ID,
    KEY_ID,
    TABLE_ID,
)

TASKCAT_DIR = "taskcat"  # build/taskcat/
TASKCAT_CONFIG = ".taskcat.yml"
# libyaml's emitter when PyYAML has it (it writes this config as the pure-Python one does, ~5x faster).
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def disposable_variant(template: dict[str, Any], spec: Spec) -> dict[str, Any]:
    out: dict[str, Any] = orjson.loads(orjson.dumps(template))  # a deep copy of JSON data, ~5x copy.deepcopy's speed
    out["Description"] = f"taskcat variant of the {spec.env_name} data stack: random table name, deletable."
    out.setdefault("Parameters", {})["TableName"] = {
        "Type": "String",
        "Description": "Name of the test table (taskcat passes a random one)",
        "AllowedPattern": r"^[A-Za-z0-9_.\-]{3,255}$",
    }
    resources = out["Resources"]
    table = resources[TABLE_ID]
    # Policies name the table (table/<name>): the random one here.
    text = orjson.dumps(table["Properties"]).replace(f"table/{spec.table_name}".encode(), b"table/${TableName}")
    table["Properties"] = orjson.loads(text)
    table["Properties"]["TableName"] = {"Ref": "TableName"}
    if table["Type"] == dynamodb.GlobalTable.resource_type:
        _disposable_replicas(table["Properties"])
    else:
        table["Properties"]["DeletionProtectionEnabled"] = False
    for logical_id in (TABLE_ID, KEY_ID, GLOBAL_KEY_ID, BACKUP_KEY_ID, BACKUP_VAULT_ID):
        if logical_id in resources:
            resources[logical_id]["DeletionPolicy"] = resources[logical_id]["UpdateReplacePolicy"] = "Delete"
    if KEY_ALIAS_ID in resources:
        resources[KEY_ALIAS_ID]["Properties"]["AliasName"] = {"Fn::Sub": "alias/${TableName}"}
    if BACKUP_VAULT_ID in resources:
        vault = resources[BACKUP_VAULT_ID]["Properties"]
        vault["BackupVaultName"] = {"Fn::Sub": "${TableName}-backups"}
        # A test vault must be deletable by whoever runs taskcat: no Vault Lock (a compliance
        # lock can never be removed) and no access policy reserving deletions to the administrators.
        vault.pop("LockConfiguration", None)
        vault.pop("AccessPolicy", None)
        resources[BACKUP_PLAN_ID]["Properties"]["BackupPlan"]["BackupPlanName"] = {"Fn::Sub": "${TableName}-plan"}
    # A deletable test table needs no checkov exemption beyond the environment's own.
    return out


def _disposable_replicas(props: dict[str, Any]) -> None:
    """Every replica deletable and on its Region's AWS managed key.

    A test has no replica key stacks (taskcat deploys one template per
    Region, with no order between them), and a global table cannot mix AWS
    managed and customer managed keys (GlobalTable SSESpecification), so
    every replica of the test table uses its Region's AWS managed key; the
    test still spans every replica Region, and still creates the stack's
    multi-Region key with its policy.
    """
    for replica in props["Replicas"]:
        replica["DeletionProtectionEnabled"] = False
        replica.pop("SSESpecification", None)


def taskcat_files(rendered: list[tuple[Spec, dict[str, Any], dict[str, str]]]) -> dict[str, str]:
    """(spec, data template, data parameters) per environment -> files of build/taskcat/.

    An alarm topic parameter is passed as configured; alarms need a topic in
    the test's region, so environments with alarms test in their own region.
    """
    files: dict[str, str] = {}
    tests: dict[str, Any] = {}
    regions: set[str] = set()
    for spec, template, parameters in rendered:
        name = f"{spec.env_name}-{DATA}"
        files[template_file(name)] = render_json(disposable_variant(template, spec))
        test_regions = [spec.env.region, *[r for r in spec.env.test_regions if r != spec.env.region]]
        regions.update(test_regions)
        tests[name] = {
            "template": f"{BUILD_DIR.as_posix()}/{TASKCAT_DIR}/{template_file(name)}",
            "regions": test_regions,
            "parameters": {
                **parameters,
                "TableName": f"{spec.design.table_name}-tcat-$[taskcat_random-string]",
            },
        }
    config = {"project": {"name": MANAGED_BY, "regions": sorted(regions)}, "tests": tests}
    files[TASKCAT_CONFIG] = "# Generated by make synth from environments/*.yaml; do not edit.\n" + yaml.dump(
        config, Dumper=_DUMPER, sort_keys=True, default_flow_style=False
    )
    return files
