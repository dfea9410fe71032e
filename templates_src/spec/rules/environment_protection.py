"""N2xx: what a protected environment must keep on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from ..roles import OPS
from . import RuleModule

if TYPE_CHECKING:
    from ..environment import Environment, ResourcePolicySettings, StreamResourcePolicySettings
    from ..source import Source

PROTECTED_KEEPS_DATA = Rule(
    "N201",
    "A protected environment keeps Retain, deletion protection, PITR and a customer managed key",
    "error",
    "docs/environments.md: Environment config reference (protected)",
)

KEY_ADMINS_NAMED = Rule(
    "N202",
    "A customer managed key names its administrators (key_admins), who manage but never use it",
    "error",
    "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators",
)

BACKUP_PLAN = Rule(
    "N203",
    "A protected environment has an AWS Backup plan, or says why not (backup.reason)",
    "error",
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/about-backup-plans.html",
)

DEPLOY_ROLE_BOUNDED = Rule(
    "N204",
    "An environment deployed by CI (ci:) bounds every role its change sets create (permissions boundary)",
    "error",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-delegate",
)

EXPORTS_ENCRYPTED = Rule(
    "N205",
    "A protected environment's exports (access.roles.ops) are encrypted with a named KMS key (export_kms_key_arn)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ExportTableToPointInTime.html",
)

RESOURCE_POLICY_DENIES_KEPT = Rule(
    "N206",
    "A protected environment keeps its table and stream resource policies' denies (TLS only, this account only)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html",
)

VAULT_LOCK_MODE = Rule(
    "N207",
    "backup.vault_lock: compliance mode names changeable_for_days (its cooling-off); governance mode has none",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-backup-backupvault-lockconfigurationtype.html",
)

VAULT_LOCK_FITS_PLAN = Rule(
    "N208",
    "backup.vault_lock: min_retention_days <= max_retention_days, and the plan's retention_days within them",
    "error",
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html",
)

VAULT_LOCK_NEEDS_PLAN = Rule(
    "N209",
    "backup.vault_lock goes with a backup plan (backup.enabled): without one there is no vault to lock",
    "error",
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/vault-lock.html",
)

RULES = (
    PROTECTED_KEEPS_DATA,
    KEY_ADMINS_NAMED,
    BACKUP_PLAN,
    DEPLOY_ROLE_BOUNDED,
    EXPORTS_ENCRYPTED,
    RESOURCE_POLICY_DENIES_KEPT,
    VAULT_LOCK_MODE,
    VAULT_LOCK_FITS_PLAN,
    VAULT_LOCK_NEEDS_PLAN,
)

# What a resource-policy deny keeps out when it is on (stacks/resource_policy.py).
DENY_CONSEQUENCES = {
    "deny_insecure_transport": "requests without TLS reach the table",
    "deny_other_accounts": "principals of other accounts reach it wherever an identity policy of theirs allows",
}


def turned_off_denies(env: Environment) -> list[tuple[str, str]]:
    """Paths of the resource-policy denies the environment turns off: the table's, and its stream's if it has one."""
    policies: list[tuple[str, ResourcePolicySettings | StreamResourcePolicySettings]] = [
        ("resource_policy", env.resource_policy)
    ]
    if env.stream_view_type is not None:
        policies.append(("stream_resource_policy", env.stream_resource_policy))
    return [(name, deny) for name, policy in policies for deny in DENY_CONSEQUENCES if not getattr(policy, deny)]


def _check_vault_lock(env: Environment, src: Source) -> list[Diagnostic]:
    lock = env.backup.vault_lock if env.backup is not None else None
    if env.backup is None or lock is None:
        return []
    at = ("backup", "vault_lock")
    if not env.backup.enabled:  # the vault is the plan's: a lock on no vault would be dropped without a word
        return [
            src.report(
                VAULT_LOCK_NEEDS_PLAN,
                at,
                "a lock with backup.enabled: false locks nothing: remove it, or enable the plan",
            )
        ]
    found = []
    # CloudFormation LockConfigurationType: with ChangeableForDays the lock becomes immutable
    # (compliance mode) once that many days pass; without it, it can be changed or removed at any
    # time (governance mode). AWS enforces a 72-hour cooling-off: ChangeableForDays >= 3.
    if lock.mode == "compliance" and lock.changeable_for_days is None:
        found.append(
            src.report(
                VAULT_LOCK_MODE,
                (*at, "changeable_for_days"),
                "compliance mode makes the lock immutable once changeable_for_days pass: name them (3 or more)",
            )
        )
    elif lock.mode == "governance" and lock.changeable_for_days is not None:
        found.append(
            src.report(
                VAULT_LOCK_MODE,
                (*at, "changeable_for_days"),
                "changeable_for_days makes the lock immutable after it (compliance mode): set mode: compliance, "
                "or remove it",
            )
        )
    # Vault Lock fails every backup or copy job whose retention is outside [min, max] (AWS Backup
    # developer guide, vault-lock; PutBackupVaultLockConfiguration).
    if lock.max_retention_days is not None and lock.min_retention_days > lock.max_retention_days:
        found.append(
            src.report(
                VAULT_LOCK_FITS_PLAN,
                (*at, "max_retention_days"),
                f"{lock.max_retention_days} is below min_retention_days ({lock.min_retention_days}): raise it, or "
                "lower min_retention_days",
            )
        )
    elif env.backup.enabled and not (
        lock.min_retention_days <= env.backup.retention_days <= (lock.max_retention_days or env.backup.retention_days)
    ):
        bounds = f"{lock.min_retention_days}..{lock.max_retention_days or 'any'}"
        default = "" if "retention_days" in env.backup.model_fields_set else " (the default)"
        found.append(
            src.report(
                VAULT_LOCK_FITS_PLAN,
                ("backup", "retention_days"),
                f"{env.backup.retention_days} days{default} is outside the vault lock's retention ({bounds} days): "
                "the vault would fail every backup job; set retention_days within it, or change the lock",
            )
        )
    return found


def check(env: Environment, src: Source) -> list[Diagnostic]:
    found = _check_vault_lock(env, src)
    if env.protected and env.backup is not None and not env.backup.enabled and not env.backup.reason.strip():
        found.append(
            src.report(
                BACKUP_PLAN,
                ("backup", "enabled"),
                "a protected environment keeps its AWS Backup plan; to opt out, give backup.reason",
            )
        )
    backup_on = env.backup.enabled if env.backup is not None else env.protected
    if backup_on and env.encryption != "customer_managed" and not env.key_admins:
        found.append(
            src.report(
                KEY_ADMINS_NAMED,
                ("key_admins",),
                "a backup plan encrypts its vault with its own key: name its administrators in key_admins",
            )
        )
    if env.encryption == "customer_managed" and not env.key_admins:
        found.append(
            src.report(
                KEY_ADMINS_NAMED,
                ("key_admins",),
                "customer_managed encryption needs key_admins: the role ARNs that may manage (not use) the key, "
                "the role that deploys the data stack among them",
            )
        )
    elif env.encryption != "customer_managed" and env.key_admins and not backup_on:
        found.append(
            src.report(
                KEY_ADMINS_NAMED,
                ("key_admins",),
                "key_admins is only used with customer_managed or a backup: remove it",
            )
        )
    # Any environment, protected or not: a dev job that may create an unbounded role can make itself
    # account administrator, and dev usually shares nothing less than the account with prod's neighbours.
    if env.ci is not None and (env.access is None or env.access.permissions_boundary_arn is None):
        found.append(
            src.report(
                DEPLOY_ROLE_BOUNDED,
                ("ci",),
                "the deploy role creates the roles of this environment's stacks: set access.permissions_boundary_arn "
                "(a managed policy every such role must carry), or a change set could give a role any permission",
            )
        )
    if not env.protected:
        return found
    ops = env.access.roles.ops if env.access is not None else None
    if ops is not None and ops.export_kms_key_arn is None:
        # ExportTableToPointInTime: S3SseAlgorithm KMS with S3SseKmsKeyId; the ops role may then
        # write exports encrypted with that key only (stacks/grants.py).
        found.append(
            src.report(
                EXPORTS_ENCRYPTED,
                ("access", "roles", OPS, "export_kms_key_arn"),
                "a protected environment's table exports leave the table's encryption: name the KMS key "
                "they are written with (SSE-KMS), e.g. arn:aws:kms:<region>:<account>:key/<id>",
            )
        )
    found += [
        src.report(
            RESOURCE_POLICY_DENIES_KEPT,
            (policy, deny),
            f"a protected environment keeps this deny: without it {DENY_CONSEQUENCES[deny]} "
            "(set protected: false to opt out)",
        )
        for policy, deny in turned_off_denies(env)
    ]
    required = {
        ("retention",): (env.retention == "Retain", "Retain"),
        ("deletion_protection",): (env.deletion_protection, "true"),
        ("point_in_time_recovery", "enabled"): (env.point_in_time_recovery.enabled, "true"),
        ("encryption",): (env.customer_key, "customer_managed or an existing key ({kms_key_arn: ...})"),
    }
    return found + [
        src.report(
            PROTECTED_KEEPS_DATA, path, f"a protected environment needs {wanted} (set protected: false to opt out)"
        )
        for path, (ok, wanted) in required.items()
        if not ok
    ]


RULE_MODULE = RuleModule(RULES, environment=check)
