"""The Google Cloud edge: Cloud SQL inventory and Cloud Monitoring history over REST."""
