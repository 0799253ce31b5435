"""Several machines on one PostgreSQL queue: nodes, leases, duties, events and path mapping."""
