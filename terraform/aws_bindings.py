"""Import the prebuilt AWS provider bindings without their 2,200 unrelated modules.

``cdktf_cdktf_provider_aws/__init__.py`` imports every one of its ~2,200 resource modules, so the first
``from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket`` costs 15-20 s of CPU, in every synth process
(the tests, ``make synth``, the revert check's clones). Each resource module is self-contained: it loads
the provider's jsii assembly through ``_jsii`` and defines its own types. So the package is registered
here with everything its ``__init__`` defines *before* that import list, and each resource module is
then imported only when a construct imports it (the types jsii hands back are those of the resources
used, which are imported). Synth output is unchanged: the byte-identical synth comparison guards it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
# The generated __init__ defines its names, then imports every resource module below this line.
EAGER_IMPORTS_MARKER = "# Loading modules to ensure their types are registered with the jsii runtime library"


def register_without_eager_imports(package: str = PACKAGE) -> None:
    """Put ``package`` in ``sys.modules`` from its ``__init__`` minus the eager resource-module imports."""
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None or spec.loader is None:
        return  # not installed: the import that needs it fails with Python's own message
    head, marker, _ = Path(spec.origin).read_text(encoding="utf-8").partition(EAGER_IMPORTS_MARKER)
    if not marker:
        importlib.import_module(package)  # a layout this does not know: import it as it is
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    try:
        exec(compile(head, spec.origin, "exec"), module.__dict__)  # noqa: S102 - the package's own code
    except BaseException:
        sys.modules.pop(package, None)
        raise
