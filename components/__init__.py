"""Pulumi ComponentResources of the entsso-cluster program.

Importing this package registers nothing and loads no cloud SDK: each module is imported by
whoever needs it (`components.azure` for target azure, `components.access` for both).
"""
