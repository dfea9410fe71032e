"""Allow/deny matrix per role and environment, decided by an IAM simulator.

Every access pattern of a role is allowed; everything a least-privilege role
must not do is denied. Decisions come from @cloud-copilot/iam-simulate run on
the built templates with intrinsics resolved (see iam_support.py). It runs on
the user's own build/ (a security test: derived from each design, so it holds
whatever the design) and on the engine's fixtures.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from templates_src.spec.operations import READ_OPERATIONS
from templates_src.stacks.artifacts import template_file
from templates_src.stacks.grants import configured_roles
from templates_src.stacks.names import ACCESS, DATA, key_logical_id, role_logical_id

from .conftest import SECURITY_PROJECTS, fixture_build, fixture_spec, read_json
from .iam_support import Arns, resolve, role_policies, simulate, substitute_caller

PROJECTS = SECURITY_PROJECTS

ME, SOMEONE_ELSE = "us-east-1:11111111-2222-4333-8444-555555555555", "us-east-1:99999999-8888-4777-8666-555555555555"


@dataclass(frozen=True)
class Case:
    project: str
    env: str
    role: str
    expect: str  # "allow" or "deny"
    action: str
    resource: str
    why: str
    context: tuple[tuple[str, Any], ...] = ()
    caller: str = ME


def _default_key_policy(case: Case, arns: Arns) -> dict[str, Any] | None:
    """Another KMS key (an export key): assume AWS's default key policy, which delegates to IAM."""
    if not case.action.startswith("kms:"):
        return None
    root = f"arn:aws:iam::{arns.account}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}],
    }


def _key_names(spec: Any) -> tuple[str, ...]:
    return tuple(sorted(spec.design.key_attributes()))


def _request(spec: Any, pattern: Any, role: str) -> tuple[tuple[str, Any], ...]:
    """The condition keys a well-behaved request of this pattern carries (per_user: its attributes)."""
    if role != "per_user":
        return ()
    attributes = ("dynamodb:Attributes", (*_key_names(spec), *pattern.attributes))
    if pattern.operation in READ_OPERATIONS:
        return (attributes, ("dynamodb:Select", "SPECIFIC_ATTRIBUTES"))
    return (attributes, ("dynamodb:ReturnValues", "NONE"))


def _cases_for(project: str, env: str) -> list[Case]:
    spec = PROJECTS[project].spec(env)
    arns = Arns.for_spec(spec)
    gsis = [g.name for g in spec.design.global_secondary_indexes]
    cmk = spec.env.encryption == "customer_managed"
    via_dynamodb = (("kms:ViaService", f"dynamodb.{arns.region}.amazonaws.com"), ("kms:CallerAccount", arns.account))
    cases: list[Case] = []
    for role in configured_roles(spec):

        def add(
            expect: str, action: str, resource: str, why: str, context: tuple = (), caller: str = ME, role: str = role
        ) -> None:
            cases.append(Case(project, env, role, expect, action, resource, why, context, caller))

        patterns = spec.design.patterns_for(role)
        keys: tuple = (("dynamodb:LeadingKeys", (spec.design.per_user_key_prefix + ME,)),) if role == "per_user" else ()
        used = {f"dynamodb:{a}" for p in patterns for a in p.iam_actions()}
        for p in patterns:
            resource = f"{arns.table}/index/{p.index}" if p.index else arns.table
            for action in p.iam_actions():
                add("allow", f"dynamodb:{action}", resource, f"pattern {p.name}", keys + _request(spec, p, role))
        # What no role may do.
        for action in ("dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:UpdateTable"):
            add("deny", action, arns.table, "no pattern scans or manages the table", keys)
        for gsi in gsis:
            add("deny", "dynamodb:Scan", f"{arns.table}/index/{gsi}", "no Scan on indexes", keys)
        if "dynamodb:DeleteItem" not in used:
            add("deny", "dynamodb:DeleteItem", arns.table, "no pattern of this role deletes one item", keys)
        other_table = arns.table.rsplit("/", 1)[0] + "/another-table"
        add("deny", "dynamodb:GetItem", other_table, "another table", keys)
        add("deny", "dynamodb:Query", f"{arns.table}/index/NotQueriedIndex", "an index the role does not query", keys)
        add("deny", "kms:ScheduleKeyDeletion", arns.key, "never delete the key", via_dynamodb)
        add("deny", "iam:PassRole", f"arn:aws:iam::{arns.account}:role/admin", "no privilege escalation")
        if role in ("reader",):
            add("deny", "dynamodb:PutItem", arns.table, "reader is read-only")
        if role in ("app", "reader", "per_user") and cmk:
            add("allow", "kms:Decrypt", arns.key, "read encrypted items via DynamoDB", via_dynamodb)
            add(
                "deny",
                "kms:Decrypt",
                arns.key,
                "the key only works through DynamoDB",
                (("kms:ViaService", f"s3.{arns.region}.amazonaws.com"), ("kms:CallerAccount", arns.account)),
            )
        if role == "reader" and cmk:
            add("deny", "kms:GenerateDataKey", arns.key, "readers do not encrypt", via_dynamodb)
        if role in ("app", "per_user") and cmk:
            add("allow", "kms:GenerateDataKey", arns.key, "writers encrypt via DynamoDB", via_dynamodb)
        if role == "per_user":
            mine = spec.design.per_user_key_prefix + ME
            other = (("dynamodb:LeadingKeys", (spec.design.per_user_key_prefix + SOMEONE_ELSE,)),)
            for p in patterns:
                request = _request(spec, p, role)
                resource = f"{arns.table}/index/{p.index}" if p.index else arns.table
                for action in p.iam_actions():
                    act = f"dynamodb:{action}"
                    add("deny", act, resource, f"{p.name} on another user's key", other + request)
                    # Denied twice over: ForAnyValue needs a key and Null needs the key present
                    # (test_each_per_user_null_guard_denies_on_its_own takes them apart).
                    add("deny", act, resource, f"{p.name} with no leading key (ForAnyValue and Null)", request)
                    # Only the Null guard on dynamodb:Attributes denies this one: the keys are the
                    # caller's, and ForAllValues holds for a request that names no attributes.
                    add(
                        "deny",
                        act,
                        resource,
                        f"{p.name} naming no attributes (Null guard on dynamodb:Attributes)",
                        (("dynamodb:LeadingKeys", (mine,)),)
                        + tuple(c for c in request if c[0] != "dynamodb:Attributes"),
                    )
                    add(
                        "deny",
                        act,
                        resource,
                        f"{p.name} with an empty key list",
                        (("dynamodb:LeadingKeys", ()),) + request,
                    )
                    add("allow", act, resource, f"{p.name}, own key", (("dynamodb:LeadingKeys", (mine,)),) + request)
                    if p.operation in READ_OPERATIONS:
                        add(
                            "deny",
                            act,
                            resource,
                            f"{p.name} reading every attribute (Select)",
                            keys + (("dynamodb:Select", "ALL_ATTRIBUTES"),),
                        )
                    else:
                        for attribute in spec.design.protected_attributes:
                            add(
                                "deny",
                                act,
                                resource,
                                f"{p.name} writing or removing protected {attribute}",
                                keys
                                + (
                                    ("dynamodb:Attributes", (*_key_names(spec), attribute)),
                                    ("dynamodb:ReturnValues", "NONE"),
                                ),
                            )
                        add(
                            "deny",
                            act,
                            resource,
                            f"{p.name} reading the old item back (ReturnValues ALL_OLD)",
                            keys + (("dynamodb:Attributes", _key_names(spec)), ("dynamodb:ReturnValues", "ALL_OLD")),
                        )
            queried = {p.index for p in patterns if p.index}
            for gsi in sorted(set(gsis) - queried):
                add("deny", "dynamodb:Query", f"{arns.table}/index/{gsi}", "an index no per_user pattern queries", keys)
            for action in ("dynamodb:PutItem", "dynamodb:DeleteItem"):
                if action not in used:
                    add("deny", action, arns.table, "clients never replace or delete whole items", keys)
        if role == "stream_consumer":
            for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"):
                add("allow", action, arns.stream, "read the table's stream")
            add("allow", "dynamodb:ListStreams", "*", "ListStreams supports only *")
            add("deny", "dynamodb:GetItem", arns.table, "stream readers do not read the table")
            other_stream = other_table + f"/stream/{arns.stream.rsplit('/', 1)[1]}"
            add("deny", "dynamodb:GetRecords", other_stream, "another table's stream")
            if cmk:
                add("allow", "kms:Decrypt", arns.key, "stream records are encrypted", via_dynamodb)
        if role == "ops":
            assert spec.env.access and spec.env.access.roles.ops
            ops = spec.env.access.roles.ops
            for action in (
                "dynamodb:CreateBackup",
                "dynamodb:DescribeContinuousBackups",
                "dynamodb:ExportTableToPointInTime",
            ):
                add("allow", action, arns.table, "backup and export")
            add("allow", "dynamodb:DescribeBackup", f"{arns.table}/backup/01700000000000-abcdef12", "backups")
            add("allow", "dynamodb:DescribeExport", f"{arns.table}/export/01700000000000-abcdef12", "exports")
            add("allow", "dynamodb:ListBackups", "*", "ListBackups supports only *")
            # The export's S3 writes are DynamoDB's, on the role's behalf (aws:CalledVia), into a bucket
            # of the expected account (s3:ResourceAccount): the role never writes to S3 itself.
            owner = ops.export_bucket_owner or arns.account
            via = (("aws:CalledVia", ("dynamodb.amazonaws.com",)), ("s3:ResourceAccount", owner))
            obj = f"arn:aws:s3:::{ops.export_bucket}/{ops.export_prefix}AWSDynamoDB/data.json.gz"
            owner_acl = (("s3:x-amz-acl", "bucket-owner-full-control"),)
            add("allow", "s3:PutObject", obj, "export objects, written by DynamoDB into the prefix", via)
            add("deny", "s3:PutObject", obj, "the role itself (no aws:CalledVia)", (("s3:ResourceAccount", owner),))
            add(
                "deny",
                "s3:PutObject",
                obj,
                "through another service than DynamoDB",
                (("aws:CalledVia", ("athena.amazonaws.com",)), ("s3:ResourceAccount", owner)),
            )
            add(
                "deny",
                "s3:PutObject",
                obj,
                "a bucket of the same name in another account",
                (("aws:CalledVia", ("dynamodb.amazonaws.com",)), ("s3:ResourceAccount", "999999999999")),
            )
            add("deny", "s3:PutObject", f"arn:aws:s3:::{ops.export_bucket}/elsewhere/x", "outside the prefix", via)
            add("deny", "s3:PutObject", f"arn:aws:s3:::another-bucket/{ops.export_prefix}x", "another bucket", via)
            add("allow", "s3:PutObject", obj, "export with the bucket owner's ACL", via + owner_acl)
            # AWS lists PutObjectAcl as required for exports: DynamoDB's own call only. The role itself
            # cannot set an ACL at all, neither by header nor in a request body (no header to see).
            add("allow", "s3:PutObjectAcl", obj, "the ACL DynamoDB's export sets", via + owner_acl)
            add(
                "deny",
                "s3:PutObjectAcl",
                obj,
                "the role itself, canned ACL",
                (("s3:ResourceAccount", owner),) + owner_acl,
            )
            add("deny", "s3:PutObjectAcl", obj, "the role itself, ACL in the body", (("s3:ResourceAccount", owner),))
            for action in ("s3:PutObject", "s3:PutObjectAcl"):
                add("deny", action, obj, "exports can never be made public", via + (("s3:x-amz-acl", "public-read"),))
                add(
                    "deny",
                    action,
                    obj,
                    "nor be granted to anyone by header",
                    via + (("s3:x-amz-grant-read", "uri=http://acs.amazonaws.com/groups/global/AllUsers"),),
                )
            add("allow", "s3:AbortMultipartUpload", obj, "exports clean up their uploads", via)
            add("deny", "s3:AbortMultipartUpload", obj, "the role itself", (("s3:ResourceAccount", owner),))
            if ops.export_kms_key_arn:
                other_key = ops.export_kms_key_arn[:-12] + "000000000000"
                add(
                    "allow",
                    "s3:PutObject",
                    obj,
                    "SSE-KMS with the export key",
                    via
                    + (
                        ("s3:x-amz-server-side-encryption", "aws:kms"),
                        ("s3:x-amz-server-side-encryption-aws-kms-key-id", ops.export_kms_key_arn),
                    ),
                )
                add(
                    "deny",
                    "s3:PutObject",
                    obj,
                    "exports are encrypted with the export key only",
                    via
                    + (
                        ("s3:x-amz-server-side-encryption", "aws:kms"),
                        ("s3:x-amz-server-side-encryption-aws-kms-key-id", other_key),
                    ),
                )
                add(
                    "allow",
                    "kms:GenerateDataKey",
                    ops.export_kms_key_arn,
                    "encrypt exports through S3",
                    (("kms:ViaService", f"s3.{arns.region}.amazonaws.com"),),
                )
                add(
                    "deny",
                    "kms:GenerateDataKey",
                    ops.export_kms_key_arn,
                    "the export key works only through S3",
                    (("kms:ViaService", f"dynamodb.{arns.region}.amazonaws.com"),),
                )
            add(
                "deny",
                "s3:GetObject",
                f"arn:aws:s3:::{ops.export_bucket}/{ops.export_prefix}x",
                "ops writes exports, never reads",
            )
            add("deny", "dynamodb:RestoreTableToPointInTime", arns.table, "restores are a human decision")
            add("deny", "dynamodb:DeleteBackup", f"{arns.table}/backup/01700000000000-abcdef12", "never delete backups")
    return cases


ENV_ROLES_BY_ENV = sorted(
    (project, env) for project, p in PROJECTS.items() for env in p.env_names if p.spec(env).env.access is not None
)


@cache
def decisions() -> dict[Case, dict[str, Any]]:
    all_cases: list[Case] = []
    requests: list[dict[str, Any]] = []
    for project, env in ENV_ROLES_BY_ENV:
        spec = PROJECTS[project].spec(env)
        arns = Arns.for_spec(spec)
        build = PROJECTS[project].build / env
        policies = role_policies(read_json(build / template_file(ACCESS)), spec, arns)
        data = read_json(build / template_file(DATA))["Resources"]
        key_id = key_logical_id(spec.env.global_table)  # GlobalTableKey for a global table
        key_policy = resolve(data[key_id]["Properties"]["KeyPolicy"], spec, arns) if key_id in data else None
        for case in _cases_for(project, env):
            policy = policies[role_logical_id(case.role)]
            if case.role == "per_user":
                policy = substitute_caller(policy, case.caller)
            all_cases.append(case)
            requests.append(
                {
                    "policy": policy,
                    "principal": f"arn:aws:iam::{arns.account}:role/{case.role}",
                    "action": case.action,
                    "resource": case.resource,
                    "accountId": arns.account,
                    "context": {k: list(v) if isinstance(v, tuple) else v for k, v in case.context},
                    "resourcePolicy": key_policy if case.resource == arns.key else _default_key_policy(case, arns),
                }
            )
    return dict(zip(all_cases, simulate(requests), strict=True))


ENV_ROLES = [
    (project, env, role)
    for project, p in PROJECTS.items()
    for env in p.env_names
    for role in configured_roles(p.spec(env))
]


@pytest.mark.parametrize(("project", "env", "role"), ENV_ROLES)
def test_role_matrix(project: str, env: str, role: str) -> None:
    results = {c: r for c, r in decisions().items() if (c.project, c.env, c.role) == (project, env, role)}
    assert any(c.expect == "allow" for c in results) and any(c.expect == "deny" for c in results)
    wrong = []
    for case, result in results.items():
        decision = result["decision"]
        assert decision != "Error", f"simulator rejected the request {case}: {result.get('errors')}"
        allowed = decision == "Allowed"
        if allowed != (case.expect == "allow"):
            wrong.append(
                f"{case.expect.upper()} expected, got {decision}: {case.action} on {case.resource} ({case.why})"
            )
    assert not wrong, f"{project} {env}/{role}:\n" + "\n".join(wrong)


NO_IDENTITY_POLICY = {"Version": "2012-10-17", "Statement": []}
# A principal of the account whose own IAM policy lets it assume any role: the
# trust policy alone decides whether it may assume ours.
MAY_ASSUME_ANY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
}
STRANGER = "role/someone-else"


def _trust_cases(project: str, env: str) -> list[tuple[str, str, str, dict[str, Any], str, str]]:
    """(expect, role, principal, context, action, why) for sts against each role's trust policy."""
    spec = PROJECTS[project].spec(env)
    account = spec.env.account_id
    cases = []
    for role in configured_roles(spec):
        config = getattr(spec.env.access.roles, role)  # type: ignore[union-attr]
        if role == "per_user":
            web = "sts:AssumeRoleWithWebIdentity"
            pool = config.identity_pool_id
            signed_in = {
                "cognito-identity.amazonaws.com:aud": pool,
                "cognito-identity.amazonaws.com:amr": ["authenticated"],
            }
            cases.append(
                ("allow", role, "cognito-identity.amazonaws.com", signed_in, web, "a signed-in user of the pool")
            )
            cases.append(
                (
                    "deny",
                    role,
                    "cognito-identity.amazonaws.com",
                    {
                        **signed_in,
                        "cognito-identity.amazonaws.com:aud": "us-east-1:00000000-0000-4000-8000-000000000000",
                    },
                    web,
                    "another identity pool",
                )
            )
            cases.append(
                (
                    "deny",
                    role,
                    "cognito-identity.amazonaws.com",
                    {**signed_in, "cognito-identity.amazonaws.com:amr": ["unauthenticated"]},
                    web,
                    "a guest",
                )
            )
            continue
        for principal in config.trusted:
            if principal.endswith(".amazonaws.com"):
                cases.append(
                    (
                        "allow",
                        role,
                        principal,
                        {"aws:SourceAccount": account},
                        "sts:AssumeRole",
                        "its service, for this account",
                    )
                )
                cases.append(
                    (
                        "deny",
                        role,
                        principal,
                        {"aws:SourceAccount": "999999999999"},
                        "sts:AssumeRole",
                        "its service acting for another account (confused deputy)",
                    )
                )
                cases.append(("deny", role, principal, {}, "sts:AssumeRole", "its service with no source account"))
            elif principal.startswith("arn:"):
                cases.append(("allow", role, principal, {}, "sts:AssumeRole", "the named principal"))
        stranger = f"arn:aws:iam::{account}:{STRANGER}"
        expect = "allow" if config.trust_whole_account else "deny"
        cases.append((expect, role, stranger, {}, "sts:AssumeRole", "another role of the account"))
        cases.append(("deny", role, "arn:aws:iam::999999999999:role/outsider", {}, "sts:AssumeRole", "another account"))
    return cases


@pytest.mark.parametrize(("project", "env"), ENV_ROLES_BY_ENV)
def test_trust_matrix(project: str, env: str) -> None:
    spec = PROJECTS[project].spec(env)
    arns = Arns.for_spec(spec)
    roles = read_json(PROJECTS[project].build / env / template_file(ACCESS))["Resources"]
    cases = _trust_cases(project, env)
    requests = [
        {
            "policy": MAY_ASSUME_ANY if principal.endswith(STRANGER) else NO_IDENTITY_POLICY,
            "principal": principal,
            "action": action,
            "resource": f"arn:aws:iam::{arns.account}:role/{role}",
            "accountId": arns.account,
            "resourcePolicy": resolve(
                roles[role_logical_id(role)]["Properties"]["AssumeRolePolicyDocument"], spec, arns
            ),
            "context": context,
        }
        for _, role, principal, context, action, _ in cases
    ]
    wrong = [
        f"{expect.upper()} expected, got {result['decision']}: {principal} -> {role} ({why})"
        for (expect, role, principal, _, _, why), result in zip(cases, simulate(requests), strict=True)
        if (result["decision"] == "Allowed") != (expect == "allow")
    ]
    assert not wrong, f"{project} {env}:\n" + "\n".join(wrong)


def test_each_per_user_null_guard_denies_on_its_own() -> None:
    """The per_user role's Null guards, one at a time, on the fixtures' prod build.

    dynamodb:Attributes: a GetItem of the caller's own item that names no attributes (no
    ProjectionExpression: the whole item) passes every other condition; only the guard stops it.
    dynamodb:LeadingKeys: ForAnyValue also stops a request without leading keys, so the guard is
    shown on a copy of the built policy without the ForAnyValue block.
    """
    spec = fixture_spec("prod")
    arns = Arns.for_spec(spec)
    built = role_policies(read_json(fixture_build() / "prod" / template_file(ACCESS)), spec, arns)["PerUserRole"]
    policy = substitute_caller(built, ME)
    (read,) = [s for s in policy["Statement"] if s["Sid"] == "OwnItemsRead"]
    assert read["Condition"]["Null"] == {"dynamodb:Attributes": "false", "dynamodb:LeadingKeys": "false"}
    without_any_value = copy.deepcopy(policy)
    for s in without_any_value["Statement"]:
        s.get("Condition", {}).pop("ForAnyValue:StringEquals", None)
    projected = {"dynamodb:Attributes": ["userId", "sk", "title"], "dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
    cases = [
        (policy, {"dynamodb:LeadingKeys": [ME], **projected}, "Allowed"),
        (policy, {"dynamodb:LeadingKeys": [ME]}, "ImplicitlyDenied"),  # the Attributes guard alone
        (without_any_value, {"dynamodb:LeadingKeys": [ME], **projected}, "Allowed"),
        (without_any_value, projected, "ImplicitlyDenied"),  # the LeadingKeys guard alone
    ]
    got = simulate(
        [
            {
                "policy": p,
                "principal": f"arn:aws:iam::{arns.account}:role/per_user",
                "action": "dynamodb:GetItem",
                "resource": arns.table,
                "accountId": arns.account,
                "context": context,
            }
            for p, context, _ in cases
        ]
    )
    assert [r["decision"] for r in got] == [want for *_, want in cases]
