"""Layer 2, stacks: troposphere builders for the data and access stacks, and the build/ files they render to."""
