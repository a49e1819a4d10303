"""Redis deployment forms under faults: Sentinel failover."""
