"""The entsso-cluster production policy pack: `pulumi preview -s prod --policy-pack policy`.

The CLI runs this directory as a program; PolicyPack serves the policies over gRPC and never returns.
"""

from policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="entsso-cluster-prod", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
