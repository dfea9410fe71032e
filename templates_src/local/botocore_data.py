"""The local endpoint's botocore data files, parsed once per process: moto_shim's fix 18.

moto makes a boto3 Session of its own wherever it needs the list of Regions:
three as moto.ec2 is imported (availability zones), another for the account
backends. Each new session parses botocore's endpoints file (over 1 MB of
JSON) and the service's model again: ~0.25 s of CPU of every server start. Importing this module makes every botocore session of
the process take one shared loader, the one deploy/aws.py gives the tool's
own sessions, which caches what it parsed. So it is imported before moto is.
Nothing moto answers changes: the loader only reads files.
"""

from __future__ import annotations

import botocore.session

from ..deploy.aws import shared_data_loader


def _register_data_loader(self: botocore.session.Session) -> None:
    """botocore's own (Session._register_data_loader), with the shared loader in place of a new one."""
    self._components.lazy_register_component(
        "data_loader", lambda: shared_data_loader(self.get_config_variable("data_path"))
    )


botocore.session.Session._register_data_loader = _register_data_loader
