"""D5xx: a key-schema migration (the design's `generation` and `migration:`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...diagnostics import Diagnostic, Rule
from ..item_transform import template_parts
from . import RuleModule

if TYPE_CHECKING:
    from ..design import Design
    from ..source import Source

MIGRATION_NEEDS_GENERATION = Rule(
    "D501",
    "A migration moves to the next generation (a new table in a new data stack)",
    "error",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html (KeySchema: Replacement)",
)
KEYS_ARE_THE_TABLE_KEY = Rule(
    "D502",
    "migration.keys names exactly the new table's key attributes",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html#HowItWorks.CoreComponents.PrimaryKey",
)
KEY_TEMPLATE_WELL_FORMED = Rule(
    "D503",
    "A key template has {placeholders} and, for a number or binary key, is one placeholder",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html",
)
RENAME_NOT_A_KEY = Rule(
    "D504",
    "rename, convert and drop leave the new key attributes to migration.keys",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html#HowItWorks.CoreComponents.PrimaryKey",
)

RENAMED_AWAY = Rule(
    "D505",
    "The new design names an attribute the migration renames or drops only by its new name (or not at all)",
    "error",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Projections",
)

RULES = (MIGRATION_NEEDS_GENERATION, KEYS_ARE_THE_TABLE_KEY, KEY_TEMPLATE_WELL_FORMED, RENAME_NOT_A_KEY, RENAMED_AWAY)


def check(design: Design, src: Source) -> list[Diagnostic]:
    migration = design.migration
    if migration is None:
        return []
    found = []
    if design.generation < 2:
        found.append(
            src.report(
                MIGRATION_NEEDS_GENERATION,
                ("generation",),
                f"generation is {design.generation}, but a migration fills a new table from the previous "
                "generation's; set generation to one more than the deployed table's",
            )
        )
    table_key = {k.name: k.type for k in design.table_key()}
    missing = [name for name in table_key if name not in migration.keys]
    extra = [name for name in migration.keys if name not in table_key]
    if missing or extra:
        found.append(
            src.report(
                KEYS_ARE_THE_TABLE_KEY,
                ("migration", "keys"),
                f"the table's key is {', '.join(table_key)}; "
                + "; ".join(
                    part
                    for part in (
                        f"no template for {', '.join(missing)}" if missing else "",
                        f"{', '.join(extra)} not a table key attribute" if extra else "",
                    )
                    if part
                ),
            )
        )
    for name, template in migration.keys.items():
        try:
            parts = template_parts(template)
        except ValueError as exc:
            found.append(src.report(KEY_TEMPLATE_WELL_FORMED, ("migration", "keys", name), f"{template!r}: {exc}"))
            continue
        if table_key.get(name, "S") != "S" and len(parts) != 1:
            found.append(
                src.report(
                    KEY_TEMPLATE_WELL_FORMED,
                    ("migration", "keys", name),
                    f"{template!r} builds a string, but {name} is typed {table_key[name]}; "
                    'write one placeholder, e.g. "{attribute}"',
                )
            )
    # A rename's source may be an old attribute of a key's name (the templates read the old item).
    targets: list[tuple[tuple[str | int, ...], str]] = [
        *((("migration", "rename", old), new) for old, new in migration.rename.items()),
        *((("migration", "convert", name), name) for name in migration.convert),
        *((("migration", "drop", i), name) for i, name in enumerate(migration.drop)),
    ]
    for path, name in targets:
        if name in table_key:
            found.append(
                src.report(
                    RENAME_NOT_A_KEY,
                    path,
                    f"{name} is a key attribute of the new table; its value comes from migration.keys.{name}",
                )
            )
    return found + _renamed_away(design, src)


def _renamed_away(design: Design, src: Source) -> list[Diagnostic]:
    """A name the new items no longer carry (renamed from, or dropped), still listed by the new design: an
    index would project nothing, a pattern grant an attribute no item has. (A rename's target may reuse it.)"""
    migration = design.migration
    assert migration is not None
    gone = {old: f"renamed to {new!r}" for old, new in migration.rename.items()}
    gone.update({name: "dropped" for name in migration.drop})
    for kept in migration.rename.values():
        gone.pop(kept, None)
    uses: list[tuple[tuple[str | int, ...], list[str]]] = [
        *(
            (("global_secondary_indexes", i, "non_key_attributes"), index.non_key_attributes)
            for i, index in enumerate(design.global_secondary_indexes)
        ),
        *(
            (("local_secondary_indexes", i, "non_key_attributes"), lsi.non_key_attributes)
            for i, lsi in enumerate(design.local_secondary_indexes)
        ),
        *((("access_patterns", i, "attributes"), p.attributes) for i, p in enumerate(design.access_patterns)),
        (("protected_attributes",), design.protected_attributes),
    ]
    found = []
    for path, names in uses:
        for j, name in enumerate(names):
            if name in gone:
                found.append(
                    src.report(
                        RENAMED_AWAY,
                        (*path, j),
                        f"{name!r} is {gone[name]} by migration: the new table's items do not carry it; "
                        "name the new attribute here (or none)",
                    )
                )
    return found


RULE_MODULE = RuleModule(RULES, design=check)
