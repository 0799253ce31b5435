"""The host: CPU, memory and GPU readings, and filesystem browsing."""
