"""Layer 3, change: offline diff of two templates, the plan, and its data-loss guards."""
