"""archive-node: one node of the five-tier federated archive network."""
