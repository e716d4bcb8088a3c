"""What the data is: the plan-file models (and their JSON Schema) and the database tables."""
