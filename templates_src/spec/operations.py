"""The DynamoDB operations an access pattern may use, and what each kind is, named once.

The design model (which operations a pattern may name), the spec rules, the grants (reads
and writes), the cost model (units per operation) and the smoke tests all ask these.
Scan is deliberately absent: no access pattern may read the whole table.
"""

from __future__ import annotations

from typing import Literal, get_args

ReadOperation = Literal["GetItem", "BatchGetItem", "Query", "TransactGetItems"]
# A write of one item; TransactWriteItems names these as its item_operations (IAM authorises each).
ItemWriteOperation = Literal["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"]
# A write of several items in one request.
MultiItemWriteOperation = Literal["BatchWriteItem", "TransactWriteItems"]
Operation = Literal[ReadOperation, ItemWriteOperation, MultiItemWriteOperation]

READ_OPERATIONS: tuple[ReadOperation, ...] = get_args(ReadOperation)
ITEM_WRITE_OPERATIONS: tuple[ItemWriteOperation, ...] = get_args(ItemWriteOperation)
MULTI_ITEM_WRITE_OPERATIONS: tuple[MultiItemWriteOperation, ...] = get_args(MultiItemWriteOperation)
# Item writes that name an existing item by its key (a PutItem carries its whole item instead).
KEYED_WRITE_OPERATIONS: tuple[ItemWriteOperation, ...] = ("UpdateItem", "DeleteItem", "ConditionCheckItem")
# Operations whose key_condition must name one whole item key.
SINGLE_ITEM_OPERATIONS: tuple[Operation, ...] = ("GetItem", *KEYED_WRITE_OPERATIONS)
# Transactions: twice the units of their plain reads and writes, and always strongly consistent.
TRANSACT_OPERATIONS: tuple[Operation, ...] = ("TransactGetItems", "TransactWriteItems")
