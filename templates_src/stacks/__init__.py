"""Layer 2, stacks: troposphere builders for the data and access stacks, and the build/ files they render to."""

import sys
import types


def _import_troposphere_without_sam() -> None:
    """Import troposphere without troposphere.serverless (SAM), which no stack here uses.

    troposphere's Template class body imports `Globals` from troposphere.serverless,
    which imports the API Gateway, Lambda, S3 and Step Functions modules: ~10 ms, a
    twentieth of a synth. A stand-in answers that one import while troposphere loads
    (Template names Globals in annotations only); it is out of sys.modules after, so a
    later `import troposphere.serverless` (Template.set_globals does one) is the real one.
    """
    if "troposphere" in sys.modules or "troposphere.serverless" in sys.modules:
        return
    stand_in = types.ModuleType("troposphere.serverless", "a stand-in while troposphere loads (stacks/__init__.py)")
    stand_in.Globals = type("Globals", (), {})  # type: ignore[attr-defined]
    sys.modules["troposphere.serverless"] = stand_in
    try:
        import troposphere
    finally:
        del sys.modules["troposphere.serverless"]
    if getattr(troposphere, "serverless", None) is stand_in:
        del troposphere.serverless


_import_troposphere_without_sam()
