"""Layer 4, deploy: change-set deploy and destroy with boto3, refusing changes that lose data."""
