"""Layer 1, spec: designs and environments read strictly into validated models (no AWS, no troposphere)."""
