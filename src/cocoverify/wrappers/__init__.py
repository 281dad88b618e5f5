"""Evidence that wraps TEE evidence (event logs, cloud vTPMs): verified above the TEE packages."""
