"""A JSON-typed CloudFormation property kept an object, so the intrinsics inside it resolve.

troposphere's json_checker turns a dict into a JSON string (AWS::Backup::BackupVault
AccessPolicy, AWS::Events::Rule EventPattern), and CloudFormation resolves no Ref,
GetAtt or Sub written inside a string; an AWSHelperFn passes through as an object.
"""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn


class JsonObject(AWSHelperFn):  # type: ignore[misc]  # troposphere ships no type information
    def __init__(self, data: Any) -> None:
        self.data = data
