"""Local tooling apart from the product: a moto server on loopback, its shim, and the smoke tests.

Nothing in spec, stacks, change or deploy imports this package; only the
command line's `local` command does.
"""
