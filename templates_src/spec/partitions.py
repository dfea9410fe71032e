"""AWS partitions and their Regions, as the installed botocore knows them: one place for both facts.

Read, not imported: importing botocore would cost synth more than the whole file.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path


@functools.cache
def partition_of() -> dict[str, str]:
    """Region -> its partition ("us-east-1" -> "aws", "cn-north-1" -> "aws-cn"), from botocore's partitions.json."""
    spec = importlib.util.find_spec("botocore")
    assert spec is not None and spec.origin is not None, "botocore is a runtime dependency"
    data = json.loads((Path(spec.origin).parent / "data" / "partitions.json").read_text(encoding="utf-8"))
    return {region: partition["id"] for partition in data["partitions"] for region in partition["regions"]}


def partition(region: str) -> str:
    """The ARN partition of a Region; "aws" for a Region botocore does not know (N614 refuses it at synth)."""
    return partition_of().get(region, "aws")
