"""Every side effect of a journey, each idempotent by a key made of workflow id, entry, step and visit."""
