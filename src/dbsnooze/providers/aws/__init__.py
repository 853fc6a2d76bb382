"""AWS: sessions and clients, RDS inventory, CloudWatch metrics, and the IAM actions they need."""
